"""The list convention of the admin API (docs/admin-api.md): a page of rows with the total,
the page and the page size; `page`, `page_size`, `sort` (one of the resource's sortable
fields, `-` for descending) and `q` as query parameters; paging and sorting applied to a
SQLAlchemy select in the database; and the xlsx export of the same select.

A list route, in full:

    LOANS = Listing(
        "loans",
        sortable={"id": Loan.id, "disbursed_on": Loan.disbursed_on, "dpd": Loan.dpd},
        default_sort="-id",
        tiebreak=Loan.id,
        search="loan id or the borrower's phone",
    )
    COLUMNS = (Column("id", "借据号", "int"), Column("principal", "本金", "yuan"), ...)

    @router.get("/loans", response_model=page_of(views.LoanRow), responses=responses(403))
    def loans(staff: Annotated[Staff, permitted("loans.read")], request: Request,
              params: Annotated[ListParams, LOANS.params()], status: ... = None):
        stmt = select(Loan).where(channel_condition(staff, Loan.channel))  # + filters
        with reading(request) as session:
            rows, total = LOANS.page(session, stmt, params)
            return params.answer(render(session, rows), total)

    @router.get("/loans/export", response_class=FileResponse, responses=EXPORT_RESPONSES)
    def export(staff: Annotated[Staff, permitted("loans.read", "reports.export")],
               params: Annotated[ListParams, LOANS.params(paged=False)], ...):
        return export_xlsx(request, staff, listing=LOANS, stmt=stmt, params=params,
                           render=render, columns=COLUMNS, title="借据",
                           filters={"status": status})

`render` is the one function that turns rows into what the screen shows, so that the export
is masked exactly as the screen is.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, create_model
from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from xindai.api.deps import Staff, client_ip, platform
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.api.views import View
from xindai.errors import XindaiError
from xindai.security import audit
from xindai.store.db import transaction

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
DEFERRED_FROM = 1_000
COUNT_CAP = 10_000
"""Lists count at most this many rows (`total_capped` beyond, shown as 10,000+): counting a
million rows costs more than the page (PostgreSQL reads them all, and while close of business
updates the loans every counted row is a heap visit: with 100,000 the loan lists of
`xindai bench console --under-load` took 0.5–1 s at p95); past it, a filter is what the user
needs (500 pages of 20)."""
MAX_PAGE = 1_000_000
MAX_EXPORT_ROWS = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXPORT_BATCH = 2_000

T = TypeVar("T", bound=BaseModel)


class Page(View, Generic[T]):
    """One page of a list; routes answer `page_of(views.LoanRow)`, documented as
    `LoanRowPage`."""

    items: list[T]
    total: int = Field(ge=0, description="rows the filters select, over every page")
    total_capped: bool = Field(
        default=False,
        description="true when counting stopped at `total` (there are at least that many): "
        "lists count at most 100,000 rows, 10,000 when the data scope joins another table",
    )
    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)


_PAGES: dict[type[BaseModel], type[BaseModel]] = {}


def page_of(row: type[T]) -> type[Page[T]]:
    """The response model of a list of `row`s, named `<Row>Page` in the OpenAPI document."""
    if row not in _PAGES:
        _PAGES[row] = create_model(f"{row.__name__}Page", __base__=Page[row], __module__=__name__)  # type: ignore[valid-type]
    found: type[Page[T]] = _PAGES[row]  # type: ignore[assignment]
    return found


class ExportTooLarge(XindaiError):
    code = "EXPORT_TOO_LARGE"

    def __init__(self) -> None:
        super().__init__(
            f"over {MAX_EXPORT_ROWS:,} rows selected; an export holds at most that: narrow the"
            " filters",
            f"筛选结果超过 {MAX_EXPORT_ROWS:,} 行（单次导出上限），请缩小筛选范围",
        )


EXPORT_RESPONSES: dict[int | str, Any] = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
    **responses(400, 403, notes={400: f"EXPORT_TOO_LARGE: over {MAX_EXPORT_ROWS} rows"}),
}
"""`responses=` of an export route (with `response_class=FileResponse`)."""


@dataclass(frozen=True, slots=True)
class ListParams:
    """What a list call asks for: the page (from 1), its size, the sort, the search text."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = ""
    q: str | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def query(self) -> str | None:
        """The search text, stripped; None when empty."""
        text = (self.q or "").strip()
        return text or None

    def answer(self, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
        """The `Page` JSON of `items` (this page's rows, rendered) and the `total` (a
        `Total` from a capped count says so)."""
        return {
            "items": items,
            "total": int(total),
            "total_capped": bool(getattr(total, "capped", False)),
            "page": self.page,
            "page_size": self.page_size,
        }


class Total(int):
    """A row count; `capped` when counting stopped there (at least that many rows)."""

    capped: bool = False

    @classmethod
    def at_least(cls, rows: int) -> Total:
        found = cls(rows)
        found.capped = True
        return found


@dataclass(frozen=True)
class Listing:
    """A list resource: the columns it sorts by (field → column or SQL expression), the
    default sort, the columns that make a row unique and break ties (so that pages never
    overlap), and what `q` searches (None: the list takes no `q`)."""

    name: str
    sortable: Mapping[str, Any]
    default_sort: str
    tiebreak: Any | tuple[Any, ...]
    search: str | None = None
    deferred_from: int = DEFERRED_FROM

    @property
    def tiebreaks(self) -> tuple[Any, ...]:
        return self.tiebreak if isinstance(self.tiebreak, tuple) else (self.tiebreak,)

    def __post_init__(self) -> None:
        if self.default_sort.lstrip("-") not in self.sortable:
            raise ValueError(f"{self.name}: default sort {self.default_sort!r} is not sortable")

    @property
    def sort_choices(self) -> list[str]:
        return [*self.sortable, *(f"-{field}" for field in self.sortable)]

    def params(self, *, paged: bool = True) -> Any:
        """The dependency that reads `page`, `page_size`, `sort` (and `q`) into `ListParams`;
        an unknown sort field, a page below 1 or a size over 100 is a 422. `paged=False`
        (an export): only `sort` and `q`."""
        parameters = [self._sort_parameter()]
        if paged:
            parameters[:0] = [
                inspect.Parameter(
                    "page",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=1,
                    annotation=Annotated[
                        WholeNumber, Query(ge=1, le=MAX_PAGE, description="page number, from 1")
                    ],
                ),
                inspect.Parameter(
                    "page_size",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=DEFAULT_PAGE_SIZE,
                    annotation=Annotated[
                        WholeNumber, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")
                    ],
                ),
            ]
        if self.search is not None:
            parameters.append(
                inspect.Parameter(
                    "q",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[
                        str | None, Query(max_length=64, description=f"search: {self.search}")
                    ],
                )
            )

        def read(**given: Any) -> ListParams:
            return ListParams(
                page=int(given.get("page", 1)),
                page_size=int(given.get("page_size", DEFAULT_PAGE_SIZE)),
                sort=str(given["sort"]),
                q=given.get("q"),
            )

        read.__signature__ = inspect.Signature(parameters, return_annotation=ListParams)  # type: ignore[attr-defined]
        read.__name__ = f"{self.name}_{'list' if paged else 'export'}_params"
        return Depends(read)

    def _sort_parameter(self) -> inspect.Parameter:
        return inspect.Parameter(
            "sort",
            inspect.Parameter.KEYWORD_ONLY,
            default=self.default_sort,
            annotation=Annotated[
                str,
                Query(
                    max_length=64,
                    pattern=f"^-?({'|'.join(self.sortable)})$",
                    description="a sortable field; `-` before it sorts descending",
                    json_schema_extra={"enum": self.sort_choices},
                ),
            ],
        )

    def ordered(self, stmt: Select[Any], sort: str) -> Select[Any]:
        """`stmt` ordered by `sort` (a field of `sortable`, `-` for descending), then by the
        tie-breaking column in the same direction."""
        descending = sort.startswith("-")
        field = sort.lstrip("-") or self.default_sort.lstrip("-")
        columns = [self.sortable[field]]
        columns += [c for c in self.tiebreaks if c is not columns[0]]
        return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))

    def page(
        self,
        session: Session,
        stmt: Select[Any],
        params: ListParams,
        *,
        counted: Select[Any] | None = None,
        cap: int | None = None,
        total: Callable[[Session], int] | None = None,
    ) -> tuple[Sequence[Any], int]:
        """The rows of the asked page of `stmt` (sorted, offset, limited) and the number of
        rows it selects in all (one COUNT of `counted`, when given: the same rows without
        the joins that only add columns). `cap`: count at most that many (a `Total` that
        says so when reached; for a scope that joins, where an exact count would read every
        row); `total`: the count from elsewhere (e.g. daily totals)."""
        rows = self._rows(session, stmt, params)
        if params.page == 1 and len(rows) < params.page_size:
            return rows, len(rows)  # the whole list is on this page
        if total is not None:
            return rows, total(session)
        return rows, count(session, stmt if counted is None else counted, cap=cap)

    def _rows(self, session: Session, stmt: Select[Any], params: ListParams) -> Sequence[Any]:
        """The page's rows. A deep page (from `DEFERRED_FROM` rows in) skips the rows before it
        by their keys alone — an index-only walk — and then reads its own rows by key (a
        "deferred join"): skipping 10,000 whole rows reads 10,000 scattered table pages."""
        ordered = self.ordered(stmt, params.sort)
        described = stmt.column_descriptions
        entity = described[0].get("entity") if len(described) == 1 else None
        if (
            params.offset < self.deferred_from
            or entity is None
            or any(getattr(c, "class_", None) is not entity for c in self.tiebreaks)
        ):
            return session.execute(ordered.offset(params.offset).limit(params.page_size)).all()
        keys = session.execute(
            self.ordered(stmt.with_only_columns(*self.tiebreaks), params.sort)
            .offset(params.offset)
            .limit(params.page_size)
        ).all()
        if not keys:
            return []
        if len(self.tiebreaks) == 1:
            wanted = stmt.where(self.tiebreaks[0].in_([k[0] for k in keys]))
        else:  # OR of key equalities: each an index lookup (a row-value IN may scan)
            wanted = stmt.where(
                or_(
                    *(and_(*(c == v for c, v in zip(self.tiebreaks, k, strict=True))) for k in keys)
                )
            )
        columns = [c.key for c in self.tiebreaks]
        found = {
            tuple(getattr(row[0], name) for name in columns): row
            for row in session.execute(wanted).all()
        }
        return [found[tuple(k)] for k in keys if tuple(k) in found]


def count(session: Session, stmt: Select[Any], *, cap: int | None = None) -> int:
    """How many rows `stmt` selects (its ORDER BY dropped); with `cap`, at most that many
    (a `Total.at_least` when there are more)."""
    inner = stmt.order_by(None)
    if cap is not None:  # rows as a constant, so that the count can walk an index alone
        inner = inner.with_only_columns(literal(1), maintain_column_froms=True).limit(cap + 1)
    counted = select(func.count()).select_from(inner.subquery())
    found = int(session.execute(counted).scalar_one())
    if cap is not None and found > cap:
        return Total.at_least(cap)
    return found


@contextlib.contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A read-only unit of work for a list or detail (no write lock on SQLite, READ ONLY on
    PostgreSQL)."""
    with transaction(platform(request).sessions, read_only=True) as session:
        yield session


# ------------------------------------------------------------------ xlsx export

CellKind = Literal["text", "int", "yuan", "date", "datetime", "percent"]


@dataclass(frozen=True, slots=True)
class Column:
    """An export column: the screen field it shows, its zh-CN header, and how the cell is
    typed (`yuan`: a number with two decimals from the yuan string; `int`: a number; the
    rest as the screen shows them)."""

    field: str
    zh: str
    kind: CellKind = "text"


_FORMATS: Mapping[str, str] = {"yuan": "#,##0.00", "int": "0"}


def _cell(kind: CellKind, value: Any) -> Any:
    if value is None or value == "":
        return None
    if kind == "yuan":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if kind == "int":
        return int(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def write_xlsx(
    path: str, title: str, columns: Sequence[Column], batches: Iterator[list[dict[str, Any]]]
) -> int:
    """Write the rendered rows of `batches` under the zh-CN headers of `columns` into an
    xlsx file at `path` (write-only: the rows are not held in memory); the rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.zh)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for batch in batches:
        for row in batch:
            cells = []
            for column in columns:
                cell = WriteOnlyCell(sheet, value=_cell(column.kind, row.get(column.field)))
                if column.kind in _FORMATS:
                    cell.number_format = _FORMATS[column.kind]
                cells.append(cell)
            sheet.append(cells)
            written += 1
    workbook.save(path)
    return written


def _filters_json(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date | datetime) else v)
        for k, v in filters.items()
        if v is not None and v != ""
    }


def export_xlsx(
    request: Request,
    staff: Staff,
    *,
    listing: Listing,
    stmt: Select[Any],
    params: ListParams,
    render: Callable[[Session, Sequence[Any]], list[dict[str, Any]]],
    columns: Sequence[Column],
    filters: Mapping[str, Any],
    title: str,
    counted: Select[Any] | None = None,
) -> FileResponse:
    """The rows `stmt` selects (sorted by `params.sort`, at most `MAX_EXPORT_ROWS`, else 400
    EXPORT_TOO_LARGE) rendered by `render(session, rows)` — the screen's own rendering,
    masks included —
    as an xlsx file headed in zh-CN, sent as a file and deleted after; the export is audited
    (who, which list, which filters, how many rows). The caller has checked the list's
    permission and `reports.export` (`permitted(<list's>, "reports.export")`)."""
    p = platform(request)
    handle, path = tempfile.mkstemp(prefix=f"xindai-{listing.name}-", suffix=".xlsx")
    os.close(handle)
    try:
        with transaction(p.sessions, read_only=True) as session:
            total = count(session, stmt if counted is None else counted, cap=MAX_EXPORT_ROWS)
            if getattr(total, "capped", False):
                raise ExportTooLarge()

            def batches() -> Iterator[list[dict[str, Any]]]:
                result = session.execute(
                    listing.ordered(stmt, params.sort).limit(MAX_EXPORT_ROWS),
                    execution_options={"yield_per": _EXPORT_BATCH},
                )
                for chunk in result.partitions(_EXPORT_BATCH):
                    yield render(session, chunk)

            written = write_xlsx(path, title, columns, batches())
        with p.sessions.begin() as session:
            audit.record(
                session,
                actor=staff.username,
                action="export",
                resource=listing.name,
                ip=client_ip(request),
                after={
                    "filters": _filters_json({**filters, "q": params.query}),
                    "sort": params.sort,
                    "rows": written,
                },
                at=p.clock(),
            )
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    stamp = p.business_date().strftime("%Y%m%d")
    ascii_name = f"{listing.name}-{stamp}.xlsx"
    return FileResponse(
        path,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(f'{title}-{stamp}.xlsx')}"
        },
        background=BackgroundTask(os.unlink, path),
    )
