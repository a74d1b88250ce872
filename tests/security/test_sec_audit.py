"""The audit log: before/after stored with personal data masked, a diff helper, and entries
that are never updated or deleted."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from xindai.security import audit
from xindai.security.errors import AuditImmutable
from xindai.store.db import transaction
from xindai.store.models import Borrower

AT = datetime(2024, 3, 7, 9, 30, 0)


def test_redact_state_masks_personal_fields_by_name() -> None:
    state = {
        "id": 5,
        "mobile": "13812345678",
        "phone": 13912345678,
        "contact": {"name": "欧阳娜娜", "phone": "+86 137 1234 5678", "relation": "parent"},
        "id_number": "110101199003074573",
        "card_number": "6222021234567890123",
        "bank_name": "工商银行",
        "display_name": "张*",
        "mobile_enc": "v1:abcdef",
        "mobile_hash": "ab" * 32,
        "password_hash": "$argon2id$...",
        "note": "borrower asked to call 13812345678 back",
        "amount_fen": 123456,
        "rate": Decimal("0.24"),
        "due": date(2024, 4, 7),
        "active": True,
        "history": [{"card": "6222 0212 3456 7890"}],
    }
    redacted = audit.redact_state(state)
    assert redacted["mobile"] == "138****5678" and redacted["phone"] == "139****5678"
    assert redacted["contact"] == {"name": "欧***", "phone": "137****5678", "relation": "parent"}
    assert redacted["id_number"] == "110101********4573"
    assert redacted["card_number"] == "6222 **** **** 0123"
    assert redacted["history"] == [{"card": "6222 **** **** 7890"}]
    assert redacted["bank_name"] == "工商银行" and redacted["display_name"] == "张*"
    assert redacted["mobile_enc"] == audit.ENCRYPTED and redacted["password_hash"] == audit.SECRET
    assert redacted["mobile_hash"] == "ab" * 32
    assert redacted["note"] == "borrower asked to call 138****5678 back"
    assert (redacted["amount_fen"], redacted["rate"], redacted["due"]) == (
        123456,
        "0.24",
        "2024-04-07",
    )
    assert redacted["active"] is True and redacted["id"] == 5
    text = json.dumps(redacted, ensure_ascii=False)
    for raw in ("13812345678", "110101199003074573", "6222021234567890123", "欧阳娜娜"):
        assert raw not in text
    assert audit.redact_state({"name": "现金贷12期"}, unmasked=["name"]) == {"name": "现金贷12期"}


def test_diff_lists_changed_fields_only() -> None:
    before = {"status": "active", "rate": Decimal("0.24"), "term": 12, "gone": 1}
    after = {"status": "closed", "rate": "0.24", "term": 12, "new": 2}
    assert audit.diff(before, after) == {
        "status": {"before": "active", "after": "closed"},
        "gone": {"before": 1},
        "new": {"after": 2},
    }
    assert audit.diff(None, None) == {} and audit.diff(after, after) == {}


def test_record_stores_redacted_json_and_entries_are_immutable(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as session:
        borrower = Borrower(
            display_name="张*", created_on=date(2024, 3, 1), mobile_enc="v1:secret", channel="app"
        )
        session.add(borrower)
        session.flush()
        before = audit.snapshot(borrower)
        borrower.channel = "douyin"
        entry = audit.record(
            session,
            actor="ops.li",
            action="borrower.update",
            resource="borrower",
            resource_id=borrower.id,
            ip="198.51.100.4",
            before={**before, "mobile": "13812345678"},
            after={**audit.snapshot(borrower), "mobile": "13812345678"},
            at=AT,
        )
        entry_id = entry.id
    with transaction(session_factory) as session:
        (stored,) = audit.events_for(session, "borrower", borrower.id)
        assert stored.id == entry_id and stored.at == AT and stored.actor == "ops.li"
        assert stored.resource_id == str(borrower.id) and stored.ip == "198.51.100.4"
        assert stored.before is not None and stored.after is not None
        assert "13812345678" not in stored.before + stored.after
        old, new = json.loads(stored.before), json.loads(stored.after)
        assert old["mobile"] == "138****5678" and old["mobile_enc"] == audit.ENCRYPTED
        assert audit.diff(old, new) == {"channel": {"before": "app", "after": "douyin"}}
        stored.actor = "someone.else"
        with pytest.raises(AuditImmutable) as caught:
            session.flush()
        assert caught.value.code == "AUDIT_IMMUTABLE"
        session.rollback()
    with transaction(session_factory) as session:
        (stored,) = audit.events_for(session, "borrower")
        assert stored.actor == "ops.li"
        session.delete(stored)
        with pytest.raises(AuditImmutable):
            session.flush()
        session.rollback()
    with session_factory() as session:
        assert len(audit.events_for(session, "borrower", borrower.id)) == 1
