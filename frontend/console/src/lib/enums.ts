// The values the server's enums take (from the OpenAPI document's `enum`s and the code that
// sets them), as filter options; labels come from i18n (status.*, txn.* …).
import type { FilterOption } from "./list";

export const LOAN_STATUSES = ["pending", "disbursing", "active", "overdue", "settled", "cancelled", "written_off", "sold"];
export const INSTALLMENT_STATUSES = ["pending", "due", "partial", "paid", "overdue"];
export const BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"];
export const APPLICATION_STATUSES = ["deciding", "approved", "rejected", "review", "signed", "disbursing", "disbursed", "payout_failed", "cancelled"];
export const PAYOUT_STATUSES = ["requested", "succeeded", "failed", "cancelled"];
export const WITHHOLDING_STATUSES = ["requested", "succeeded", "failed"];
export const KYC_STATUSES = ["none", "verified"];
export const PRODUCTS = ["CASH14", "INST12", "FLAT6", "WEEK8"];
export const APPROVAL_KINDS = ["waiver", "deferral", "extension", "restructure", "write_off", "sale", "refund"];
export const APPROVAL_STATUSES = ["pending", "approved", "rejected", "withdrawn"];
export const REPAYMENT_KINDS = ["repayment", "early_settlement", "extension", "refund", "reversal"];

export function statusOptions(values: string[]): FilterOption[] {
  return values.map((value) => ({ value, label: `status.${value}` }));
}
export function rawOptions(values: string[]): FilterOption[] {
  return values.map((value) => ({ value, label: value, raw: true }));
}
export function keyedOptions(values: string[], prefix: string): FilterOption[] {
  return values.map((value) => ({ value, label: `${prefix}.${value}` }));
}
