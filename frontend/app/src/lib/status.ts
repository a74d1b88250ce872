// One colour per state everywhere in the app (UI.md): active blue, overdue red, settled
// green, anything else grey; the icon of an application's state.
import type { TagType } from "vant";

const TAGS: Record<string, TagType> = {
  active: "primary",
  overdue: "danger",
  settled: "success",
  paid: "success",
  due: "warning",
  partial: "primary",
  succeeded: "success",
  failed: "danger",
  requested: "primary",
};

export function tagType(status: string): TagType {
  return TAGS[status] ?? "default";
}

const ICONS: Record<string, string> = {
  approved: "passed",
  rejected: "close",
  review: "clock-o",
  disbursed: "checked",
  payout_failed: "warning-o",
};

export function applicationIcon(status: string): string {
  return ICONS[status] ?? "underway-o";
}

const PAYOUT_STEP: Record<string, number> = { signed: 0, disbursing: 1, payout_failed: 1, disbursed: 2 };

/** Which of 已签约 → 放款中 → 已到账 an application has reached. */
export function payoutStep(status: string): number {
  return PAYOUT_STEP[status] ?? 0;
}
