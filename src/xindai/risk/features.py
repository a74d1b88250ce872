"""Gathering one application's features from the database at decision time: admission
facts, the anti-fraud indexes loaded for just this applicant (blacklist entries, recent
applications, the relation graph two hops out), the bureau report, the reloan ladder, and
the scorecard's inputs. The anti-fraud arithmetic itself is `risk.antifraud` (pure).

A handful of indexed queries per application; nothing scans a table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from xindai.money import Fen
from xindai.origination.declared import city_tier
from xindai.products.model import Product
from xindai.risk.antifraud import (
    AnomalyModel,
    AntifraudContext,
    AntifraudResult,
    ApplicationEvent,
    ApplicationSignals,
    BlacklistIndex,
    BureauReport,
    DeviceIndex,
    DeviceObservation,
    HashedIdentifiers,
    RelationGraph,
    VelocityIndex,
    antifraud_features,
)
from xindai.risk.blacklist_store import active_entries
from xindai.risk.history import BorrowerHistory, histories
from xindai.risk.pricing import term_years
from xindai.store.fastsql import as_datetime, fetch, in_list, union_of
from xindai.store.models import Borrower
from xindai.store.models_origination import Application

LOOKBACK = timedelta(days=30)  # the longest window of velocity (7 d) and device sharing (30 d)
DEBT_MONTHS = 12  # existing debt is taken to be repaid over a year: its monthly payment
MAX_NEIGHBOURS = 2_000  # a hub identifier links nobody; never load more than this per hop
ANOMALY_FEATURES = ("age", "requested_amount", "requested_term", "device_age_days", "prev_loans")


@cache
def default_anomaly_model() -> AnomalyModel:
    """The anomaly model of the default strategy, fitted on the synthetic history (cached)."""
    from xindai.risk.scorecard.synthetic import generate_history

    history = generate_history(5_000, seed=11)
    return AnomalyModel.fit(history, ANOMALY_FEATURES)


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the decision reads: `features` (the strategy's context), `scorecard_inputs`,
    the anti-fraud result (reasons and blacklist hits), and what the limit needs."""

    features: dict[str, Any]
    scorecard_inputs: dict[str, Any]
    antifraud: AntifraudResult
    history: BorrowerHistory
    monthly_income_fen: Fen
    existing_monthly_payment_fen: Fen


def _age(birth: date | None, today: date) -> int:
    if birth is None:
        return 0
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _months(product: Product, term: int) -> int:
    return max(1, int((term_years(product, term) * 12).to_integral_value()))


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else float(Decimal(fen) / 100)


_LINK_COLUMNS = "SELECT value_hash, borrower_id, link, first_seen_at FROM identity_links"


def _relation_graph(
    session: Session, borrower_id: int, own_values: Sequence[str]
) -> tuple[RelationGraph, set[int], dict[str, datetime]]:
    """The graph two hops out from the borrower (two queries), their neighbours' ids, and
    the first sighting of each of the borrower's own identifiers by anyone."""
    # one IN over a UNION (an OR of two INs defeats the index on PostgreSQL)
    extra, extra_params = union_of(session, own_values)
    hop1_rows = fetch(
        session,
        f"{_LINK_COLUMNS} WHERE value_hash IN"
        f" (SELECT value_hash FROM identity_links WHERE borrower_id = ?{extra})"
        f" LIMIT {MAX_NEIGHBOURS}",
        (borrower_id, *extra_params),
    )
    first_seen: dict[str, datetime] = {}
    for value, _, _, seen in hop1_rows:
        seen_at = as_datetime(seen)
        if value not in first_seen or seen_at < first_seen[value]:
            first_seen[value] = seen_at
    hop1 = {row[1] for row in hop1_rows} - {borrower_id}
    rows = list(hop1_rows)
    if hop1:
        test, params = in_list(session, sorted(hop1))
        rows.extend(
            fetch(
                session,
                f"{_LINK_COLUMNS} WHERE value_hash IN (SELECT value_hash FROM identity_links"
                f" WHERE borrower_id {test}) LIMIT {MAX_NEIGHBOURS}",
                params,
            )
        )
    graph = RelationGraph.from_links((str(other), link, value) for value, other, link, _ in rows)
    neighbours = {row[1] for row in rows} - {borrower_id}
    return graph, neighbours, first_seen


_RECENT = (
    "SELECT id, created_at, id_number_hash, phone_hash, device_hash, ip_hash, card_hash"
    " FROM applications WHERE {column} = ? AND created_at > ? AND created_at <= ?"
)


def _recent_applications(
    session: Session, ids: HashedIdentifiers, as_of: datetime
) -> tuple[VelocityIndex, DeviceIndex]:
    """Applications in the look-back window sharing any identifier with this one (one
    statement: a UNION of index range scans, one per identifier)."""
    parts: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("id_number_hash", ids.id_number),
        ("phone_hash", ids.phone),
        ("device_hash", ids.device),
        ("ip_hash", ids.ip),
        ("card_hash", ids.card),
    ):
        if value is not None:
            parts.append(_RECENT.format(column=column))
            params.extend((value, as_of - LOOKBACK, as_of))
    velocity, devices = VelocityIndex(), DeviceIndex()
    if not parts:
        return velocity, devices
    seen: set[int] = set()
    for app_id, at, id_hash, phone, device, ip, card in fetch(
        session, " UNION ALL ".join(parts), params
    ):
        if app_id in seen:
            continue
        seen.add(app_id)
        created = as_datetime(at)
        velocity.add(
            ApplicationEvent(
                at=created,
                identifiers=HashedIdentifiers(
                    id_number=id_hash, phone=phone, device=device, ip=ip, card=card
                ),
            )
        )
        if device is not None and id_hash is not None:
            devices.add(DeviceObservation(at=created, device=device, id_number=id_hash))
    return velocity, devices


def gather(
    session: Session,
    application: Application,
    *,
    borrower: Borrower,
    product: Product,
    as_of: datetime,
    today: date,
    bureau_report: BureauReport | None,
    blocked_regions: frozenset[str] = frozenset(),
    region_code: str | None = None,
    anomaly_model: AnomalyModel | None = None,
) -> Gathered:
    """Every feature of `application` as the database holds it at `as_of` (the decision
    time: rows created later are not seen)."""
    contacts = [
        row[0]
        for row in fetch(
            session,
            "SELECT phone_hash FROM contacts WHERE borrower_id = ? ORDER BY seq",
            (borrower.id,),
        )
    ]
    card_rows = fetch(session, "SELECT status FROM bank_cards WHERE id = ?", (application.card_id,))
    card_status = card_rows[0][0] if card_rows else None
    identifiers = HashedIdentifiers(
        id_number=application.id_number_hash,
        phone=application.phone_hash,
        device=application.device_hash,
        ip=application.ip_hash,
        card=application.card_hash,
        contact_phones=tuple(contacts),
    )
    velocity, devices = _recent_applications(session, identifiers, as_of)
    own_values = [v for v in (identifiers.phone, identifiers.device, *contacts) if v is not None]
    graph, neighbours, first_seen = _relation_graph(session, borrower.id, own_values)

    # the neighbours' flags: blacklisted (ID or phone) or overdue now — one query
    people: list[Any] = []
    if neighbours:
        test, params = in_list(session, sorted(neighbours))
        people = fetch(
            session,
            "SELECT b.id, b.id_number_hash, b.mobile_hash, EXISTS (SELECT 1 FROM loans l"
            " WHERE l.borrower_id = b.id AND l.status = 'overdue')"
            f" FROM borrowers b WHERE b.id {test}",
            params,
        )
    hashes = {
        h
        for h in (
            identifiers.id_number,
            identifiers.phone,
            identifiers.device,
            identifiers.card,
            *contacts,
        )
        if h is not None
    }
    for _, id_hash, phone_hash, _ in people:
        hashes.update(h for h in (id_hash, phone_hash) if h is not None)
    entries = active_entries(session, hashes, as_of)
    listed = {entry.value_hash for entry in entries}
    for other, id_hash, phone_hash, overdue in people:
        blacklisted = id_hash in listed or phone_hash in listed
        if blacklisted or overdue:
            graph.set_flags(str(other), blacklisted=blacklisted, overdue=bool(overdue))

    own_history = histories(session, [borrower.id])[borrower.id]
    reloan = own_history.reloan()
    device_seen = first_seen.get(identifiers.device) if identifiers.device else None
    device_age_days = max(0, (as_of - device_seen).days) if device_seen else 0
    age = _age(borrower.birth_date, today)
    months = _months(product, application.term)
    settled = len(own_history.settled_max_dpd)
    prev_loans = own_history.loans
    anomaly_inputs = {
        "age": float(age),
        "requested_amount": float(application.amount_fen) / 100,
        "requested_term": float(months),
        "device_age_days": float(device_age_days),
        "prev_loans": float(prev_loans),
    }
    result = antifraud_features(
        ApplicationSignals(
            applicant_id=str(borrower.id),
            applied_at=min(application.created_at, as_of),
            identifiers=identifiers,
            numeric_features=anomaly_inputs,
            bureau_report=bureau_report,
        ),
        AntifraudContext(
            blacklist=BlacklistIndex(entries),
            velocity=velocity,
            devices=devices,
            graph=graph,
            anomaly_model=anomaly_model,
        ),
        as_of,
    )
    af = result.features
    has_report = bool(af["bureau_report_available"])
    features: dict[str, Any] = {
        **af,
        "age": age,
        "age_min": product.age_min,
        "age_max": product.age_max,
        "id_valid": borrower.id_number_hash is not None and borrower.birth_date is not None,
        "kyc_passed": borrower.kyc_status == "verified",
        "liveness_passed": bool(borrower.liveness_passed),
        "card_verified": card_status == "verified",
        "contacts_count": len(contacts),
        "region_blocked": region_code is not None and region_code[:2] in blocked_regions,
        "amount_fen": application.amount_fen,
        "term": application.term,
        "is_repeat": settled > 0,
        "reloan_eligible": reloan.eligible,
        "reloan_level": reloan.next_level or 0,
        "reloan_limit_fen": reloan.limit_fen,
        "open_loans": own_history.open_loans,
        "open_principal_fen": own_history.open_principal_fen,
    }
    scorecard_inputs: dict[str, Any] = {
        "age": age,
        "monthly_income": _yuan(application.monthly_income_fen),
        "employment_type": application.employment_type,
        "education": application.education,
        "city_tier": city_tier(application.city),
        "inquiries_1m": af["bureau_inquiries_1m"] if has_report else None,
        "inquiries_3m": af["bureau_inquiries_3m"] if has_report else None,
        "inquiries_6m": af["bureau_inquiries_6m"] if has_report else None,
        "multi_lender_count": af["multi_lender_open_count"] if has_report else None,
        "other_max_overdue_days": af["bureau_max_overdue_days"] if has_report else None,
        "device_age_days": device_age_days,
        "contacts_count": application.phonebook_count,
        "prev_loans": prev_loans,
        "prev_max_dpd": own_history.worst_dpd if prev_loans else None,
        "requested_amount": application.amount_fen / 100,
        "requested_term": months,
    }
    return Gathered(
        features=features,
        scorecard_inputs=scorecard_inputs,
        antifraud=result,
        history=own_history,
        monthly_income_fen=application.monthly_income_fen or 0,
        existing_monthly_payment_fen=(
            own_history.open_principal_fen + int(af.get("multi_lender_outstanding_fen", 0) or 0)
        )
        // DEBT_MONTHS,
    )


def plain(features: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy of a feature mapping (numbers, booleans, strings, None)."""
    return {k: (float(v) if isinstance(v, Decimal) else v) for k, v in features.items()}
