"""Recording the relation graph's edges (`IdentityLink`): a borrower's own phone, the devices
they apply from and the phones they list as emergency contacts. Links are only added."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.store.models_risk import IdentityLink

OWN_PHONE, DEVICE, CONTACT_PHONE = "own_phone", "device", "contact_phone"


def record_link(
    session: Session, borrower_id: int, link: str, value_hash: str | None, now: datetime
) -> None:
    """Add the edge borrower —link→ identifier unless it is known (keeps the first sighting)."""
    if value_hash is None:
        return
    known = session.scalars(
        select(IdentityLink.first_seen_at).where(
            IdentityLink.value_hash == value_hash,
            IdentityLink.borrower_id == borrower_id,
            IdentityLink.link == link,
        )
    ).first()
    if known is None:
        session.add(
            IdentityLink(
                value_hash=value_hash, borrower_id=borrower_id, link=link, first_seen_at=now
            )
        )
        session.flush()
