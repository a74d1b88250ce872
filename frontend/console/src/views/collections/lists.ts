// The collections lists (docs/collections-api.md), merged into LISTS (src/lists.ts) and so
// checked against the server's OpenAPI document like every other list.
import { keyedOptions, rawOptions, statusOptions } from "@/lib/enums";
import type { ColumnDef, FilterDef } from "@/lib/list";
import { ASSIGNMENT_REASONS, CASE_BUCKETS, COLL, QUADRANTS } from "./model";
import { OUTCOMES, RULE_CODES, WARN } from "./warnings";

export const CASE_COLUMNS: ColumnDef[] = [
  { prop: "id", label: "coll.caseNo", kind: "id", width: 80, sortable: true },
  { prop: "loan_id", label: "common.loanId", kind: "id", width: 80 },
  { prop: "borrower_name", label: "coll.borrower", width: 80 },
  { prop: "dpd", label: "coll.dpd", kind: "count", width: 76, sortable: true },
  { prop: "bucket", label: "coll.bucket", width: 64 },
  { prop: "overdue", label: "coll.overdue", kind: "money", sortable: true },
  { prop: "outstanding", label: "coll.outstanding", kind: "money" },
  { prop: "priority", label: "coll.priority", kind: "count", width: 80, sortable: true },
  { prop: "quadrant", label: "coll.quadrant", width: 70 },
  { prop: "promise", label: "coll.promise", minWidth: 150, virtual: true },
  { prop: "queue", label: "coll.queue", width: 80 },
  { prop: "assignee", label: "coll.assignee", width: 100 },
  { prop: "agency", label: "coll.agency", width: 100 },
  { prop: "last_contact_at", label: "coll.lastContact", kind: "datetime", width: 150 },
  { prop: "held_until", label: "coll.heldUntil", kind: "date", width: 110 },
  { prop: "status", label: "common.status", kind: "status", width: 80, scope: "case" },
  { prop: "pre_due", label: "coll.warn.preDue", kind: "bool", width: 70 },
  { prop: "opened_on", label: "coll.openedOn", kind: "date", width: 110, sortable: true, hidden: true },
  { prop: "product_code", label: "common.product", width: 80, hidden: true },
  { prop: "test_cell", label: "coll.testCell", kind: "status", width: 90, hidden: true },
  { prop: "close_reason", label: "coll.closeReason", width: 90, hidden: true },
];

export const CASE_FILTERS: FilterDef[] = [
  { prop: "status", type: "select", label: "common.status", options: [{ value: "open", label: "statusIn.case.open" }, { value: "closed", label: "statusIn.case.closed" }] },
  { prop: "bucket", type: "select", label: "coll.bucket", options: rawOptions([...CASE_BUCKETS]) },
  { prop: "quadrant", type: "select", label: "coll.quadrant", options: keyedOptions([...QUADRANTS], "coll.quadrantShort") },
  { prop: "queue", type: "text", label: "coll.queue" },
  { prop: "dpd_min", type: "number", label: "coll.dpdMin" },
  { prop: "dpd_max", type: "number", label: "coll.dpdMax" },
  { prop: "assignee_id", type: "number", label: "coll.staffId" },
];

export const WARNING_COLUMNS: ColumnDef[] = [
  { prop: "id", label: "common.id", kind: "id", width: 80, sortable: true },
  { prop: "business_date", label: "coll.warn.businessDate", kind: "date", width: 110, sortable: true },
  { prop: "rule_code", label: "coll.warn.rule", minWidth: 200, sortable: true },
  { prop: "loan_id", label: "common.loanId", kind: "id", width: 80 },
  { prop: "borrower_name", label: "coll.borrower", width: 80 },
  { prop: "summary", label: "coll.warn.summary", minWidth: 260, virtual: true },
  { prop: "effect", label: "coll.warn.effect", width: 200 },
  { prop: "outcome", label: "coll.warn.outcome", width: 120 },
  { prop: "case_id", label: "coll.caseNo", kind: "id", width: 80 },
  { prop: "created_at", label: "coll.warn.recordedAt", kind: "datetime", width: 150, hidden: true },
];

export const WARNING_FILTERS: FilterDef[] = [
  { prop: "rule_code", type: "select", label: "coll.warn.rule", options: keyedOptions([...RULE_CODES], "coll.warn.rules") },
  { prop: "outcome", type: "select", label: "coll.warn.outcome", options: keyedOptions([...OUTCOMES], "coll.warn.outcomes") },
  { prop: "business", type: "daterange", label: "coll.warn.businessDate", from: "date_from", to: "date_to" },
  { prop: "case_id", type: "number", label: "coll.caseNo" },
];

export const COLLECTION_LISTS = {
  /** 预警监控: the early-warning hits in the member's scope. */
  collectionWarnings: {
    path: WARN,
    search: "coll.warn.search",
    defaultSort: "-id",
    exportable: true,
    filters: WARNING_FILTERS,
    columns: WARNING_COLUMNS,
  },
  collectionCases: {
    path: `${COLL}/cases`,
    search: "coll.search",
    defaultSort: "-priority",
    exportable: true,
    filters: CASE_FILTERS,
    columns: CASE_COLUMNS,
  },
  /** The workbench's queue: my open cases (the server scopes them to the caller). */
  collectionQueue: {
    path: `${COLL}/cases`,
    search: "coll.search",
    defaultSort: "-priority",
    exportable: false,
    fixed: { status: "open" },
    filters: CASE_FILTERS.filter((f) => ["bucket", "quadrant", "dpd_min", "dpd_max"].includes(f.prop)),
    columns: CASE_COLUMNS.filter((c) => !["assignee", "agency", "status", "queue"].includes(c.prop)),
  },
  collectionAssignments: {
    path: `${COLL}/assignments`,
    exportable: false,
    filters: [
      { prop: "case_id", type: "number", label: "coll.caseNo" },
      { prop: "staff_id", type: "number", label: "coll.staffId" },
    ] as FilterDef[],
    columns: [
      { prop: "id", label: "common.id", kind: "id", width: 70 },
      { prop: "case_id", label: "coll.caseNo", kind: "id", width: 80 },
      { prop: "business_date", label: "coll.businessDate", kind: "date", width: 110 },
      { prop: "reason", label: "coll.reason", width: 110 },
      { prop: "queue", label: "coll.queue", width: 80 },
      { prop: "from_staff", label: "coll.from", width: 100, format: (r) => String(r.from_staff ?? r.from_agency ?? "—") },
      { prop: "to_staff", label: "coll.to", width: 100, format: (r) => String(r.to_staff ?? r.to_agency ?? "—") },
      { prop: "actor", label: "common.operator", width: 100 },
      { prop: "at", label: "coll.at", kind: "datetime", width: 150 },
    ] as ColumnDef[],
  },
  collectionPlacements: {
    path: `${COLL}/placements`,
    exportable: false,
    filters: [
      { prop: "status", type: "select", label: "common.status", options: statusOptions(["active", "recalled", "closed"]) },
      { prop: "agency_id", type: "number", label: "coll.agency" },
    ] as FilterDef[],
    columns: [
      { prop: "id", label: "common.id", kind: "id", width: 70 },
      { prop: "agency", label: "coll.agency", minWidth: 120 },
      { prop: "case_id", label: "coll.caseNo", kind: "id", width: 80 },
      { prop: "loan_id", label: "common.loanId", kind: "id", width: 80 },
      { prop: "placed_on", label: "coll.placedOn", kind: "date", width: 110 },
      { prop: "window_end", label: "coll.windowEnd", kind: "date", width: 110 },
      { prop: "status", label: "common.status", kind: "status", width: 90, scope: "placement" },
      { prop: "balance_at_placement", label: "coll.balanceAtPlacement", kind: "money" },
      { prop: "recovered", label: "coll.recovered", kind: "money" },
      { prop: "commission_rate", label: "coll.commissionRate", width: 90 },
      { prop: "commission", label: "coll.commission", kind: "money" },
      { prop: "recalled_on", label: "coll.recalledOn", kind: "date", width: 110, hidden: true },
    ] as ColumnDef[],
  },
  collectionReminders: {
    path: `${COLL}/reminders`,
    exportable: false,
    filters: [
      { prop: "status", type: "select", label: "common.status", options: [...statusOptions(["queued", "sent", "delivered", "failed"]), { value: "refused", label: "statusIn.reminder.refused" }] },
      { prop: "loan_id", type: "number", label: "common.loanId" },
      { prop: "business_date", type: "date", label: "coll.businessDate" },
    ] as FilterDef[],
    columns: [
      { prop: "id", label: "common.id", kind: "id", width: 70 },
      { prop: "loan_id", label: "common.loanId", kind: "id", width: 80 },
      { prop: "installment", label: "coll.installment", kind: "count", width: 70 },
      { prop: "offset_days", label: "coll.offsetDays", kind: "count", width: 110 },
      { prop: "business_date", label: "coll.businessDate", kind: "date", width: 110 },
      { prop: "template_code", label: "coll.template", minWidth: 160 },
      { prop: "status", label: "common.status", kind: "status", width: 110, scope: "reminder" },
      { prop: "message_id", label: "coll.messageId", minWidth: 150 },
      { prop: "sent_at", label: "coll.sentAt", kind: "datetime", width: 150 },
    ] as ColumnDef[],
  },
};

export { ASSIGNMENT_REASONS };
