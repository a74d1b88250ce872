// Permission codes the collections pages show actions by (the server checks every call
// again). Not i18n keys: tests/keys.ts skips files of this name.
import type { OfferKind } from "./model";

/** The permission each offer needs besides collections.act. */
export const OFFER_PERMISSION: Record<OfferKind, string> = {
  extension: "loans.extend",
  deferral: "loans.defer",
  restructure: "loans.restructure.request",
  waiver: "loans.waive.request",
};

export const ACT = "collections.act";
export const ASSIGN = "collections.assign";
export const MANAGE = "collections.manage";
export const AGENCIES = "collections.agencies.manage";
export const EXPORT = "reports.export";
/** The champion / challenger outcomes and the KPIs (with collections.read). */
export const REPORTS = "reports.read";
