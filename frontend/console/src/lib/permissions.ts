// Permission codes the console shows actions by (the server checks every call again).
// (Not i18n keys: tests/keys.ts skips this file.)

/** The servicing actions a maker may ask for, each a maker-checker request. */
export const REQUEST_PERMISSIONS = [
  "loans.waive.request",
  "loans.defer",
  "loans.extend",
  "loans.restructure.request",
  "loans.write_off.request",
  "loans.sale.request",
  "loans.refund",
] as const;

/** The approvals a checker may give (the inbox holds the kinds the member may approve). */
export const APPROVE_PERMISSIONS = [
  "loans.waive.approve",
  "loans.defer.approve",
  "loans.extend.approve",
  "loans.restructure.approve",
  "loans.write_off.approve",
  "loans.sale.approve",
  "loans.refund.approve",
] as const;
