"""Products to and from JSON-friendly dicts (enums as values, Decimals as strings)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, get_type_hints

from xindai.errors import ProductError
from xindai.money import DayCount
from xindai.products import model
from xindai.schedules.model import Method, PeriodicFeeKind, PeriodUnit, UpfrontFeeMode
from xindai.servicing.allocation import Component

_NESTED: dict[str, type[Any]] = {
    "penalty": model.PenaltyTerms,
    "early_settlement": model.EarlySettlement,
    "extension": model.Extension,
    "rate_cap": model.RateCap,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def product_to_dict(product: model.Product) -> dict[str, Any]:
    result: dict[str, Any] = _plain(product)
    return result


def _coerce(cls: type[Any], data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ProductError(prefix or "product", data, "must be an object", "应为对象")
    hints = get_type_hints(cls, vars(model))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ProductError(
            f"{prefix}{unknown[0]}", data[unknown[0]], "is not a product field", "不是产品字段"
        )
    values: dict[str, Any] = {}
    for name, raw in data.items():
        hint = str(hints[name])
        label = f"{prefix}{name}"
        try:
            if name in _NESTED and cls is model.Product:
                values[name] = _coerce(_NESTED[name], raw, f"{label}.")
            elif name == "allocation_order":
                values[name] = tuple(Component(v) for v in raw)
            elif name == "terms":
                values[name] = tuple(int(v) for v in raw)
            elif "Decimal" in hint and raw is not None:
                values[name] = Decimal(str(raw))
            else:
                enum_type = next((t for t in _ENUMS if t.__name__ in hint), None)
                values[name] = enum_type(raw) if enum_type and raw is not None else raw
        except (ValueError, TypeError, InvalidOperation):
            raise ProductError(
                label, raw, "has the wrong type or an unknown value", "类型错误或取值未知"
            ) from None
    try:
        return cls(**values)
    except TypeError as exc:
        raise ProductError(
            prefix or "product", sorted(values), f"incomplete: {exc}", "字段不完整"
        ) from None


_ENUMS: tuple[type[Enum], ...] = (
    model.ProductType,
    model.PenaltyBase,
    model.EarlySettlementInterest,
    model.RateCapKind,
    PeriodUnit,
    Method,
    DayCount,
    UpfrontFeeMode,
    PeriodicFeeKind,
)


def product_from_dict(data: dict[str, Any]) -> model.Product:
    product: model.Product = _coerce(model.Product, data, "")
    return product
