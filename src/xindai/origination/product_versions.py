"""Product versions in the console (产品管理, SPEC §2): operations edit a product by creating a
new version (a draft, validated and checked against its rate cap before it is saved), a
second person activates it (maker-checker; the cap is checked again), which retires the
version it replaces; an active version can be retired (no new applications).

Versions are immutable once saved: loans keep the version they were booked under. Every
change is audited (`product.create`, `product.activate`, `product.retire`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import XindaiError
from xindai.money import format_percent, format_yuan
from xindai.products.model import Product
from xindai.products.validation import check_rate_cap, cost_range, worst_cost
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models import ProductRecord

RESOURCE = "product"
STATUSES = ("draft", "active", "retired")


class ProductStateError(XindaiError):
    """The version is not in a state that allows the action, or the maker is the checker."""

    code = "PRODUCT_STATE"
    http_status = 409


def _percent(rate: Any) -> str:
    return format_percent(rate)


def cost_view(product: Product) -> dict[str, Any]:
    """The product's comprehensive annualised cost (IRR): at every allowed term and at the
    minimum and maximum amounts on the reference payout date, and the highest over every
    first period the payout dates give, against the cap."""
    points = [
        {
            "term": p.term,
            "amount": format_yuan(p.amount_fen),
            "nominal": _percent(p.cost.nominal),
            "effective": _percent(p.cost.effective),
        }
        for p in cost_range(product)
    ]
    worst = worst_cost(product)
    cap = product.rate_cap.annual_rate
    return {
        "points": points,
        "worst": {
            "term": worst.term,
            "amount": format_yuan(worst.amount_fen),
            "nominal": _percent(worst.cost.nominal),
            "effective": _percent(worst.cost.effective),
        },
        "cap_kind": product.rate_cap.kind.value,
        "cap": _percent(cap),
        "within_cap": worst.cost.nominal <= cap,
        "compliance_flags": list(product.compliance_flags),
    }


def version_view(record: ProductRecord) -> dict[str, Any]:
    """A version as the list shows it."""
    definition = json.loads(record.definition)
    return {
        "code": record.code,
        "version": record.version,
        "name": definition.get("name", ""),
        "type": definition.get("type", ""),
        "method": definition.get("method", ""),
        "status": record.status,
        "note": record.note,
        "created_by": record.created_by,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "approved_by": record.approved_by,
        "activated_on": record.activated_on.isoformat() if record.activated_on else None,
        "retired_by": record.retired_by,
        "retired_on": record.retired_on.isoformat() if record.retired_on else None,
    }


class ProductVersions:
    """Create, activate and retire product versions in `sessions`' database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self.sessions = sessions
        self.clock = clock

    def product(self, code: str, version: int) -> tuple[ProductRecord, Product]:
        """A stored version (detached) and its definition."""
        with self.sessions() as session:
            record = self._record(session, code, version)
            session.expunge(record)
            return record, repo.load_product(session, code, version)

    @staticmethod
    def _record(
        session: Session, code: str, version: int, *, for_update: bool = False
    ) -> ProductRecord:
        query = select(ProductRecord).where(
            ProductRecord.code == code, ProductRecord.version == version
        )
        record = session.scalars(query.with_for_update() if for_update else query).first()
        if record is None:
            raise repo.NotFound(
                f"product {code} v{version} does not exist", f"产品 {code} v{version} 不存在"
            )
        return record

    def create(
        self, definition: dict[str, Any], *, actor: str, note: str = "", ip: str | None = None
    ) -> ProductRecord:
        """Save `definition` (the product's fields; its code names the product) as the next
        version, a draft: `PRODUCT_INVALID` when a field is wrong, `RATE_CAP_EXCEEDED` when
        its highest annualised cost is above its cap."""
        probe = Product.from_dict({**definition, "version": 1})  # the fields, checked
        with self.sessions.begin() as session:
            latest = session.scalar(
                select(func.max(ProductRecord.version)).where(ProductRecord.code == probe.code)
            )
            product = Product.from_dict({**definition, "version": int(latest or 0) + 1})
            check_rate_cap(product)
            record = ProductRecord(
                code=product.code,
                version=product.version,
                definition=json.dumps(product.to_dict(), ensure_ascii=False, sort_keys=True),
                status="draft",
                created_by=actor,
                created_at=self.clock(),
                note=note.strip() or None,
            )
            session.add(record)
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="product.create",
                resource=RESOURCE,
                resource_id=f"{product.code}@v{product.version}",
                ip=ip,
                after={"status": "draft", "note": note, "definition": product.to_dict()},
                at=self.clock(),
                unmasked=("name",),
            )
            session.expunge(record)
            return record

    def activate(
        self, code: str, version: int, *, actor: str, ip: str | None = None
    ) -> ProductRecord:
        """Put a draft on sale: by another person than its maker, within its cap (checked
        again); the version it replaces (the active one of the code) is retired."""
        with self.sessions.begin() as session:
            record = self._record(session, code, version, for_update=True)
            if record.status != "draft":
                raise ProductStateError(
                    f"{code} v{version} is {record.status}; only a draft can be activated",
                    f"产品 {code} v{version} 状态为 {record.status}，只有草稿可以启用",
                )
            if record.created_by == actor:
                raise ProductStateError(
                    "a product version is activated by another person than its maker "
                    "(maker-checker)",
                    "产品版本须由创建人以外的人员启用",
                )
            check_rate_cap(repo.load_product(session, code, version))
            today = repo.require_business_date(session)
            replaced = session.scalars(
                select(ProductRecord)
                .where(ProductRecord.code == code, ProductRecord.status == "active")
                .with_for_update()
            ).all()
            for old in replaced:
                self._retire(session, old, actor, today, ip, why=f"replaced by v{version}")
            record.status, record.approved_by, record.activated_on = "active", actor, today
            audit.record(
                session,
                actor=actor,
                action="product.activate",
                resource=RESOURCE,
                resource_id=f"{code}@v{version}",
                ip=ip,
                before={"status": "draft", "created_by": record.created_by},
                after={"status": "active", "replaces": [f"v{r.version}" for r in replaced]},
                at=self.clock(),
            )
            session.flush()
            session.expunge(record)
            return record

    def retire(
        self, code: str, version: int, *, actor: str, reason: str, ip: str | None = None
    ) -> ProductRecord:
        """Take a version off sale (or discard a draft): no new application uses it; loans
        booked under it keep it."""
        with self.sessions.begin() as session:
            record = self._record(session, code, version, for_update=True)
            if record.status == "retired":
                raise ProductStateError(
                    f"{code} v{version} is already retired", f"产品 {code} v{version} 已停用"
                )
            self._retire(session, record, actor, repo.require_business_date(session), ip, reason)
            session.flush()
            session.expunge(record)
            return record

    def _retire(
        self,
        session: Session,
        record: ProductRecord,
        actor: str,
        today: date,
        ip: str | None,
        why: str,
    ) -> None:
        before = record.status
        record.status, record.retired_by, record.retired_on = "retired", actor, today
        audit.record(
            session,
            actor=actor,
            action="product.retire",
            resource=RESOURCE,
            resource_id=f"{record.code}@v{record.version}",
            ip=ip,
            before={"status": before},
            after={"status": "retired", "reason": why},
            at=self.clock(),
        )


__all__ = ["STATUSES", "ProductStateError", "ProductVersions", "cost_view", "version_view"]
