import type { ColumnDef, FilterDef } from "@/lib/list";

/** The audit log's columns (the audit page, and a record's 审计 tab). */
export const AUDIT_COLUMNS: ColumnDef[] = [
  { prop: "at", label: "common.time", kind: "datetime", width: 150, sortable: true },
  { prop: "actor", label: "common.operator", width: 120 },
  { prop: "action", label: "audit.action", width: 170 },
  { prop: "resource", label: "audit.resource", width: 110 },
  { prop: "resource_id", label: "audit.resourceId", width: 110 },
  { prop: "ip", label: "audit.ip", width: 120 },
  { prop: "change", label: "audit.change", minWidth: 260, format: (row) => change(row) },
];

export const AUDIT_FILTERS: FilterDef[] = [
  { prop: "actor", type: "text", label: "common.operator" },
  { prop: "action", type: "text", label: "audit.action" },
  { prop: "resource", type: "text", label: "audit.resource" },
  { prop: "at", type: "daterange", label: "common.date", from: "date_from", to: "date_to" },
];

/** before → after, compactly. */
export function change(row: { before?: unknown; after?: unknown }): string {
  const text = (v: unknown) => (v === null || v === undefined ? "" : JSON.stringify(v));
  const before = text(row.before);
  const after = text(row.after);
  return before ? `${before} → ${after}` : after;
}
