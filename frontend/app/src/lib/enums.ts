// The values the borrower picks from, as the server's OpenAPI document lists them (a test
// checks them against it); their labels are in i18n under the same names.
export const RELATIONS = ["parent", "spouse", "child", "sibling", "friend", "colleague"] as const;
export const EMPLOYMENT = ["salaried", "self_employed", "freelance", "student", "unemployed"] as const;
export const EDUCATION = ["junior_high", "high_school", "college", "bachelor", "master"] as const;
export const PURPOSES = ["consumption", "education", "medical", "home_improvement", "travel", "other"] as const;
export const APPLICATION_STATUSES = ["deciding", "approved", "rejected", "review", "signed", "disbursing", "disbursed", "payout_failed", "cancelled"] as const;
export const LOAN_STATUSES = ["pending", "disbursing", "active", "overdue", "settled", "cancelled", "written_off", "sold"] as const;
export const INSTALLMENT_STATUSES = ["pending", "due", "partial", "paid", "overdue"] as const;

export type Relation = (typeof RELATIONS)[number];
export type Employment = (typeof EMPLOYMENT)[number];
export type Education = (typeof EDUCATION)[number];
export type Purpose = (typeof PURPOSES)[number];
