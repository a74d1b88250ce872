// The list pages' query (docs/admin-api.md): page, page_size, sort (a field, "-" for
// descending), q, and the filters as plain query parameters; a date range becomes
// <from>/<to> parameters. Empty values are left out, so the server applies its defaults.
import type { Query } from "@shared/api/client";

export type FilterType = "text" | "select" | "date" | "daterange" | "number" | "boolean";

export interface FilterOption {
  value: string | number | boolean;
  /** An i18n key, or the text itself with `raw`. */
  label: string;
  raw?: boolean;
}

export interface FilterDef {
  prop: string;
  type: FilterType;
  /** An i18n key. */
  label: string;
  options?: FilterOption[];
  /** For a date range: the parameter names of its ends (default <prop>_from / <prop>_to). */
  from?: string;
  to?: string;
  placeholder?: string;
}

export type CellKind =
  | "text"
  | "id"
  | "money"
  | "rate"
  | "percent"
  | "date"
  | "datetime"
  | "status"
  | "count"
  | "bool";

export interface ColumnDef {
  prop: string;
  /** An i18n key. */
  label: string;
  kind?: CellKind;
  /** Sortable on the server: true sorts by `prop`, a string names the sort field. */
  sortable?: boolean | string;
  width?: number | string;
  minWidth?: number | string;
  /** Hidden until chosen in 列设置. */
  hidden?: boolean;
  fixed?: "left" | "right";
  /** For a status: the scope whose words it takes (statusIn.<scope>.<state>). */
  scope?: string;
  /** Not a field of the row: the page shows it from other fields (a slot or `format`). */
  virtual?: boolean;
  /** The cell's text from the whole row (instead of the value under `prop`). */
  format?: (row: Record<string, unknown>) => string;
}

export interface ListState {
  page: number;
  pageSize: number;
  sort: string | null;
  q: string;
  filters: Record<string, unknown>;
}

export const PAGE_SIZES = [10, 20, 50, 100];

function present(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.some(present);
  return true;
}

function scalar(value: unknown): string | number {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "number") return value;
  return String(value).trim();
}

/** The filters part of the query (also what an export sends). */
export function filterQuery(filters: Record<string, unknown>, defs: FilterDef[]): Query {
  const query: Query = {};
  const known = new Map(defs.map((d) => [d.prop, d]));
  for (const [prop, value] of Object.entries(filters)) {
    if (!present(value)) continue;
    const def = known.get(prop);
    if (def?.type === "daterange") {
      const [from, to] = Array.isArray(value) ? value : [];
      if (present(from)) query[def.from ?? `${prop}_from`] = scalar(from);
      if (present(to)) query[def.to ?? `${prop}_to`] = scalar(to);
    } else if (Array.isArray(value)) {
      query[prop] = value.filter(present).map(scalar);
    } else {
      query[prop] = scalar(value);
    }
  }
  return query;
}

/** The whole list query of `state`. */
export function buildListQuery(state: ListState, defs: FilterDef[] = []): Query {
  const query: Query = { page: state.page, page_size: state.pageSize };
  if (state.sort) query.sort = state.sort;
  if (state.q.trim()) query.q = state.q.trim();
  return { ...query, ...filterQuery(state.filters, defs) };
}

/** The export's query: the same filters, search and sort, without paging. */
export function exportQuery(state: ListState, defs: FilterDef[] = []): Query {
  const { page: _page, page_size: _size, ...rest } = buildListQuery(state, defs);
  return rest;
}

/** el-table's sort-change event → the `sort` parameter (null: the server's default). */
export function sortParam(
  change: { prop?: string | null; order?: "ascending" | "descending" | null },
  columns: ColumnDef[],
): string | null {
  if (!change.prop || !change.order) return null;
  const column = columns.find((c) => c.prop === change.prop);
  const field = typeof column?.sortable === "string" ? column.sortable : change.prop;
  return change.order === "descending" ? `-${field}` : field;
}

/** The column and order el-table shows for a `sort` parameter. */
export function sortOf(sort: string | null, columns: ColumnDef[]): { prop: string; order: "ascending" | "descending" } | undefined {
  if (!sort) return undefined;
  const descending = sort.startsWith("-");
  const field = descending ? sort.slice(1) : sort;
  const column = columns.find((c) => (typeof c.sortable === "string" ? c.sortable : c.prop) === field && c.sortable);
  return column ? { prop: column.prop, order: descending ? "descending" : "ascending" } : undefined;
}

/** Initial filter values from a route query (?status=overdue from another page's link). */
export function filtersFromRoute(routeQuery: Record<string, unknown>, defs: FilterDef[]): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const def of defs) {
    if (def.type === "daterange") {
      const from = routeQuery[def.from ?? `${def.prop}_from`];
      const to = routeQuery[def.to ?? `${def.prop}_to`];
      if (typeof from === "string" || typeof to === "string") found[def.prop] = [from ?? "", to ?? ""];
    } else if (typeof routeQuery[def.prop] === "string") {
      const raw = routeQuery[def.prop] as string;
      found[def.prop] = def.type === "number" ? Number(raw) : def.type === "boolean" ? raw === "true" : raw;
    }
  }
  return found;
}

export interface PageAnswer<T> {
  items: T[];
  total: number;
  total_capped?: boolean;
  page?: number;
  page_size?: number;
}

/** A list answer as a page: the convention's page, or a bare array (older routes);
 * `capped` when the server stopped counting (the total is a lower bound). */
export function asPage<T>(
  answer: PageAnswer<T> | T[],
): { items: T[]; total: number; paged: boolean; capped: boolean } {
  if (Array.isArray(answer)) return { items: answer, total: answer.length, paged: false, capped: false };
  return { items: answer.items ?? [], total: answer.total ?? 0, paged: true, capped: answer.total_capped === true };
}
