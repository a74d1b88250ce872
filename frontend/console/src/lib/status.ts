// One colour per state, everywhere (UI.md): active blue, overdue red, settled green, written
// off grey, waiting orange. A status the table does not know is shown plain (grey).
export type TagType = "primary" | "success" | "warning" | "danger" | "info";

const GROUPS: Record<TagType, string[]> = {
  // in force, running normally
  primary: ["active", "current", "approved", "open", "claimed", "verified", "live", "champion", "enabled", "running", "in_progress", "draft_approved"],
  // done well
  success: ["settled", "paid", "disbursed", "succeeded", "success", "done", "refunded", "confirmed", "sent", "delivered", "closed_ok", "balanced", "completed", "signed", "promoted", "approve"],
  // waiting for someone
  warning: ["review", "pending", "deciding", "requested", "disbursing", "refunding", "queued", "waiting", "info_requested", "partially_paid", "draft", "challenger", "scheduled", "more_info", "due"],
  // went wrong
  danger: ["overdue", "rejected", "payout_failed", "failed", "error", "reject", "blocked", "frozen", "break", "unbalanced", "locked", "delinquent"],
  // over, no longer in force
  info: ["written_off", "cancelled", "expired", "removed", "closed", "inactive", "retired", "sold", "superseded", "released", "none", "disabled", "archived"],
};

const TYPE_OF = new Map<string, TagType>(
  (Object.entries(GROUPS) as [TagType, string[]][]).flatMap(([type, states]) => states.map((s) => [s, type] as [string, TagType])),
);

export function statusType(status: string | null | undefined): TagType {
  return (status && TYPE_OF.get(status)) || "info";
}

/** Every state with a colour (for the test that no state has two). */
export function statusGroups(): Record<TagType, readonly string[]> {
  return GROUPS;
}
