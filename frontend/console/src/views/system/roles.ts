/** The eight roles (security.rbac.ROLES), in the order the permission matrix shows them. */
export const ROLE_CODES = ["customer_manager", "customer_service", "agent", "risk", "finance", "operations", "collector", "admin"] as const;
export type RoleCode = (typeof ROLE_CODES)[number];
