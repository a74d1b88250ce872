import { describe, expect, test } from "vitest";
import { asPage, buildListQuery, exportQuery, filtersFromRoute, sortOf, sortParam, type ColumnDef, type FilterDef } from "@/lib/list";

const FILTERS: FilterDef[] = [
  { prop: "status", type: "select", label: "common.status" },
  { prop: "disbursed", type: "daterange", label: "loans.disbursedOn", from: "date_from", to: "date_to" },
  { prop: "created", type: "daterange", label: "common.createdAt" },
  { prop: "include_inactive", type: "boolean", label: "x.y" },
  { prop: "dpd_min", type: "number", label: "x.y" },
];
const COLUMNS: ColumnDef[] = [
  { prop: "id", label: "common.id", sortable: true },
  { prop: "disbursed_on", label: "loans.disbursedOn", sortable: "disbursed" },
  { prop: "name", label: "common.name" },
];

describe("the list query (docs/admin-api.md)", () => {
  test("paging always; sort, search and filters only when given", () => {
    expect(buildListQuery({ page: 1, pageSize: 20, sort: null, q: "  ", filters: {} }, FILTERS)).toEqual({ page: 1, page_size: 20 });
    expect(
      buildListQuery(
        {
          page: 3,
          pageSize: 50,
          sort: "-dpd",
          q: " 13812345678 ",
          filters: { status: "overdue", disbursed: ["2026-01-01", "2026-01-31"], include_inactive: false, dpd_min: 0, created: null },
        },
        FILTERS,
      ),
    ).toEqual({
      page: 3,
      page_size: 50,
      sort: "-dpd",
      q: "13812345678",
      status: "overdue",
      date_from: "2026-01-01",
      date_to: "2026-01-31",
      include_inactive: "false",
      dpd_min: 0,
    });
  });
  test("a date range: named ends, or <prop>_from / <prop>_to; an open end is left out", () => {
    expect(buildListQuery({ page: 1, pageSize: 20, sort: null, q: "", filters: { created: ["2026-02-01", ""] } }, FILTERS)).toEqual({
      page: 1,
      page_size: 20,
      created_from: "2026-02-01",
    });
  });
  test("the export sends the same filters, search and sort, without paging", () => {
    expect(exportQuery({ page: 4, pageSize: 100, sort: "id", q: "x", filters: { status: "active" } }, FILTERS)).toEqual({ sort: "id", q: "x", status: "active" });
  });
  test("el-table's sort → sort parameter, and back", () => {
    expect(sortParam({ prop: "id", order: "descending" }, COLUMNS)).toBe("-id");
    expect(sortParam({ prop: "id", order: "ascending" }, COLUMNS)).toBe("id");
    expect(sortParam({ prop: "disbursed_on", order: "descending" }, COLUMNS)).toBe("-disbursed");
    expect(sortParam({ prop: "id", order: null }, COLUMNS)).toBeNull();
    expect(sortOf("-disbursed", COLUMNS)).toEqual({ prop: "disbursed_on", order: "descending" });
    expect(sortOf("name", COLUMNS)).toBeUndefined(); // not sortable
  });
  test("filters from a link's query", () => {
    expect(filtersFromRoute({ status: "overdue", date_from: "2026-01-01", dpd_min: "30", include_inactive: "true", other: "x" }, FILTERS)).toEqual({
      status: "overdue",
      disbursed: ["2026-01-01", ""],
      dpd_min: 30,
      include_inactive: true,
    });
  });
  test("an answer is a page, or a bare list from an older route", () => {
    expect(asPage({ items: [{ id: 1 }], total: 41, page: 1, page_size: 20 })).toEqual({ items: [{ id: 1 }], total: 41, paged: true, capped: false });
    expect(asPage([{ id: 1 }, { id: 2 }])).toEqual({ items: [{ id: 1 }, { id: 2 }], total: 2, paged: false, capped: false });
    // the server stopped counting: the total is a lower bound
    expect(asPage({ items: [], total: 100000, total_capped: true }).capped).toBe(true);
  });
});
