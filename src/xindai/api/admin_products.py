"""Products in the admin API (产品管理), /api/v1/admin/products: the versions, one version with
its definition and its comprehensive annualised cost against the cap, a cost check of a
definition being edited, a new version (a draft, by operations), activation by a second
person, retirement. Amounts in a definition are yuan strings (`amount_min`, `amount_max`,
`amount_step`, `penalty.overdue_fee`); rates are fractions ("0.18")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xindai.api import views_products as views
from xindai.api.deps import Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.errors import ProductError
from xindai.money import format_yuan, parse_yuan
from xindai.origination.product_versions import (
    STATUSES,
    ProductVersions,
    cost_view,
    version_view,
)
from xindai.products.model import Product
from xindai.store.models import ProductRecord

router = APIRouter(prefix="/api/v1/admin/products", tags=["admin 产品 products"])

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Code = Annotated[str, Path(pattern=CODE_PATTERN, max_length=32, description="product code")]
Version = Annotated[WholeNumber, Path(ge=1, le=1_000_000, description="version number")]
VERSIONS = Listing(
    "products",
    sortable={
        "code": ProductRecord.code,
        "version": ProductRecord.version,
        "created_at": ProductRecord.created_at,
    },
    default_sort="code",
    tiebreak=ProductRecord.version,
    search="product code",
)
# fields kept in fen by the core and shown in yuan here: (path to the field, core key)
_MONEY = (((), "amount_min_fen"), ((), "amount_max_fen"), ((), "amount_step_fen"))
_NESTED_MONEY = (("penalty", "overdue_fee_fen"),)
DEFINITION_NOTES = {
    400: "PRODUCT_INVALID (the field at fault in `field`), RATE_CAP_EXCEEDED (the highest "
    "comprehensive annualised cost, its term and amount, and the cap in the message), "
    "INVALID_VALUE / AMOUNT_TOO_LARGE for an amount"
}


def definition_json(product: Product) -> dict[str, Any]:
    """A product's fields as the console edits them: amounts in yuan, the rest as stored."""
    data = product.to_dict()
    for _, key in _MONEY:
        data[key.removesuffix("_fen")] = format_yuan(int(data.pop(key)))
    for parent, key in _NESTED_MONEY:
        data[parent][key.removesuffix("_fen")] = format_yuan(int(data[parent].pop(key)))
    return data


def core_definition(data: dict[str, Any], code: str) -> dict[str, Any]:
    """The core's fields (amounts in fen) from the console's; the code is the path's."""
    result = {k: v for k, v in data.items() if k not in ("version",)}
    if "code" in result and result["code"] != code:
        raise ProductError("code", result["code"], f"must be {code}", f"应为 {code}")
    result["code"] = code
    for _, key in _MONEY:
        shown = key.removesuffix("_fen")
        if shown in result:
            result[key] = parse_yuan(_amount(result.pop(shown), shown), field=shown)
    for parent, key in _NESTED_MONEY:
        nested = result.get(parent)
        shown = key.removesuffix("_fen")
        if isinstance(nested, dict) and shown in nested:
            nested = dict(nested)
            nested[key] = parse_yuan(_amount(nested.pop(shown), shown), field=f"{parent}.{shown}")
            result[parent] = nested
    return result


def _amount(value: Any, field: str) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise ProductError(field, value, "must be a yuan amount", "应为金额（元）")


class DefinitionIn(BaseModel):
    definition: dict[str, Any] = Field(
        description="the product's fields (as `GET …/versions/{version}` shows them)"
    )


class NewVersionIn(DefinitionIn):
    note: str = Field(default="", max_length=512, description="what this version changes")


class RetireIn(BaseModel):
    reason: str = Field(min_length=1, max_length=512)


def _service(request: Request) -> ProductVersions:
    p = platform(request)
    return ProductVersions(p.sessions, p.clock)


def _detail(record: ProductRecord, product: Product) -> dict[str, Any]:
    return {
        **version_view(record),
        "definition": definition_json(product),
        "cost": cost_view(product),
    }


@router.get(
    "",
    response_model=page_of(views.ProductVersion),
    responses=responses(403),
    summary="Product versions / 产品版本",
)
def versions(
    staff: Annotated[Staff, permitted("products.read")],
    request: Request,
    params: Annotated[ListParams, VERSIONS.params()],
    status: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": STATUSES})
    ] = None,
    code: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN)] = None,
) -> dict[str, Any]:
    stmt = select(ProductRecord)
    if status is not None:
        stmt = stmt.where(ProductRecord.status == status)
    if code is not None:
        stmt = stmt.where(ProductRecord.code == code)
    if params.query is not None:
        stmt = stmt.where(ProductRecord.code.contains(params.query.upper()))
    with reading(request) as session:
        rows, total = VERSIONS.page(session, stmt, params)
        return params.answer([version_view(row) for (row,) in rows], total)


@router.post(
    "/check",
    response_model=views.ProductCost,
    responses=responses(400, 403, notes={400: "PRODUCT_INVALID: the field at fault in `field`"}),
    summary="Check a definition's annualised cost against its cap / 综合年化成本测算",
)
def check(
    body: DefinitionIn,
    staff: Annotated[Staff, permitted("products.read")],
    request: Request,
) -> dict[str, Any]:
    """The comprehensive annualised cost (IRR) of a definition being edited, nothing saved:
    every term at the minimum and maximum amounts, the highest over every payout date, the
    cap and whether the definition is within it."""
    data = core_definition(body.definition, str(body.definition.get("code") or "DRAFT"))
    return cost_view(Product.from_dict({**data, "version": 1}))


@router.get(
    "/{code}/versions/{version}",
    response_model=views.ProductDetail,
    responses=responses(403, 404),
    summary="A product version with its cost / 产品版本详情",
)
def version(
    code: Code,
    version: Version,
    staff: Annotated[Staff, permitted("products.read")],
    request: Request,
) -> dict[str, Any]:
    return _detail(*_service(request).product(code, version))


@router.post(
    "/{code}/versions",
    status_code=201,
    response_model=views.ProductDetail,
    responses=responses(400, 403, notes=DEFINITION_NOTES),
    summary="Save an edited product as a new version (a draft) / 新建产品版本",
)
def create_version(
    code: Code,
    body: NewVersionIn,
    staff: Annotated[Staff, permitted("products.edit")],
    request: Request,
) -> dict[str, Any]:
    """The next version of product `code` (its first when the code is new), validated and
    within its rate cap; a draft until a second person activates it."""
    service = _service(request)
    record = service.create(
        core_definition(body.definition, code),
        actor=staff.username,
        note=body.note,
        ip=client_ip(request),
    )
    return _detail(*service.product(record.code, record.version))


@router.post(
    "/{code}/versions/{version}/activate",
    response_model=views.ProductDetail,
    responses=responses(
        400,
        403,
        404,
        409,
        notes={
            400: "RATE_CAP_EXCEEDED",
            409: "PRODUCT_STATE: not a draft, or the caller made it (maker-checker)",
        },
    ),
    summary="Activate a draft (a second person) / 启用产品版本",
)
def activate(
    code: Code,
    version: Version,
    staff: Annotated[Staff, permitted("products.activate")],
    request: Request,
) -> dict[str, Any]:
    """On sale from the business date; the version it replaces is retired."""
    service = _service(request)
    service.activate(code, version, actor=staff.username, ip=client_ip(request))
    return _detail(*service.product(code, version))


@router.post(
    "/{code}/versions/{version}/retire",
    response_model=views.ProductDetail,
    responses=responses(403, 404, 409, notes={409: "PRODUCT_STATE: already retired"}),
    summary="Retire a version (or discard a draft) / 停用产品版本",
)
def retire(
    code: Code,
    version: Version,
    body: RetireIn,
    staff: Annotated[Staff, permitted("products.activate")],
    request: Request,
) -> dict[str, Any]:
    service = _service(request)
    service.retire(code, version, actor=staff.username, reason=body.reason, ip=client_ip(request))
    return _detail(*service.product(code, version))
