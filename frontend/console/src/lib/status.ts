// One colour per state, everywhere (UI.md): active blue, overdue red, settled green, written
// off grey, waiting orange. A status the table does not know is shown plain (grey).
export type TagType = "primary" | "success" | "warning" | "danger" | "info";

const GROUPS: Record<TagType, string[]> = {
  // in force, running normally
  primary: ["active", "current", "approved", "open", "claimed", "verified", "live", "champion", "running"],
  // done well
  success: ["settled", "paid", "disbursed", "succeeded", "done", "refunded", "confirmed", "sent", "signed", "approve", "balanced", "kept", "delivered"],
  // waiting for someone
  warning: ["review", "pending", "deciding", "requested", "disbursing", "refunding", "queued", "more_info", "due", "partial", "draft", "challenger", "candidate"],
  // went wrong
  danger: ["overdue", "rejected", "payout_failed", "failed", "reject", "frozen", "unbalanced", "broken"],
  // over, no longer in force
  info: ["written_off", "sold", "cancelled", "expired", "removed", "closed", "withdrawn", "retired", "previous", "none", "inactive", "superseded", "recalled"],
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
