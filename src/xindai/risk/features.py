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
    BlacklistEntry,
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
from xindai.store.fastsql import as_datetime, fetch, in_list
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

LinkRow = tuple[str, int, str, Any]
"""An identity link: (value hash, borrower id, link kind, first seen at)."""
Neighbourhood = tuple[RelationGraph, set[int], dict[str, datetime]]
"""A borrower's graph two hops out, the neighbours' ids, and the first sighting of each
identifier the borrower shares (by anyone)."""


def _neighbourhood(
    borrower_id: int, hop1: Sequence[LinkRow], hop2: Sequence[LinkRow]
) -> Neighbourhood:
    first_seen: dict[str, datetime] = {}
    for value, _, _, seen in hop1:
        seen_at = as_datetime(seen)
        if value not in first_seen or seen_at < first_seen[value]:
            first_seen[value] = seen_at
    rows = [*hop1, *hop2]
    graph = RelationGraph.from_links((str(other), link, value) for value, other, link, _ in rows)
    neighbours = {row[1] for row in rows} - {borrower_id}
    return graph, neighbours, first_seen


def _links_on(
    session: Session, borrower_ids: Sequence[int], values: Sequence[str], cap: int
) -> list[Any]:
    """Every link (at most `cap`) on an identifier that any of `borrower_ids` is linked to,
    or that is among `values`. Two plain index lookups rather than one IN over a sub-select:
    PostgreSQL's generic plan for that (a prepared statement after five runs) scanned the
    whole table."""
    wanted = set(values)
    if borrower_ids:
        test, params = in_list(session, sorted(set(borrower_ids)))
        wanted.update(
            row[0]
            for row in fetch(
                session, f"SELECT value_hash FROM identity_links WHERE borrower_id {test}", params
            )
        )
    if not wanted:
        return []
    test, params = in_list(session, sorted(wanted))
    return fetch(session, f"{_LINK_COLUMNS} WHERE value_hash {test} LIMIT {cap}", params)


def _relation_graph(session: Session, borrower_id: int, own_values: Sequence[str]) -> Neighbourhood:
    """One borrower's neighbourhood, each hop capped at `MAX_NEIGHBOURS` rows: the fallback
    of `_relation_graphs` when an identifier shared by very many (a hub) is in the group."""
    hop1 = _links_on(session, [borrower_id], own_values, MAX_NEIGHBOURS)
    others = sorted({row[1] for row in hop1} - {borrower_id})
    hop2 = _links_on(session, others, (), MAX_NEIGHBOURS) if others else []
    return _neighbourhood(borrower_id, hop1, hop2)


def _relation_graphs(
    session: Session, subjects: Sequence[tuple[int, Sequence[str]]]
) -> list[Neighbourhood]:
    """The neighbourhood of each (borrower id, own identifier hashes) — read for the whole
    group at once, then each borrower's two hops walked in memory over the rows loaded: the
    first hop is every link on a value the borrower is linked to (or gives now), the second
    every link on a value the first hop's borrowers are linked to. The same rows the
    per-borrower queries read; a group that reaches the row cap (a hub identifier among
    them) is read borrower by borrower instead, each capped on its own."""
    cap = MAX_NEIGHBOURS * len(subjects)
    group = sorted({b for b, _ in subjects})
    rows = _links_on(session, group, sorted({v for _, own in subjects for v in own}), cap)
    others = sorted({row[1] for row in rows} - set(group))
    more: list[Any] = []
    if others and len(rows) < cap:
        more = _links_on(session, others, (), cap)
    if len(rows) >= cap or len(more) >= cap:
        return [_relation_graph(session, b, own) for b, own in subjects]
    by_value: dict[str, list[LinkRow]] = {}
    values_of: dict[int, set[str]] = {}
    seen: set[tuple[str, int, str]] = set()
    for row in (*rows, *more):
        key = (row[0], row[1], row[2])
        if key in seen:
            continue
        seen.add(key)
        by_value.setdefault(row[0], []).append(row)
        values_of.setdefault(row[1], set()).add(row[0])
    out: list[Neighbourhood] = []
    for borrower_id, own in subjects:
        start = values_of.get(borrower_id, set()).union(own)
        hop1 = [row for value in sorted(start) for row in by_value.get(value, ())]
        second: set[str] = set()
        for other in {row[1] for row in hop1} - {borrower_id}:
            second |= values_of.get(other, set())
        hop2 = [row for value in sorted(second) for row in by_value.get(value, ())]
        out.append(_neighbourhood(borrower_id, hop1, hop2))
    return out


_IDENTIFIERS = ("id_number", "phone", "device", "ip", "card")
_RECENT = (
    "SELECT id, created_at, id_number_hash, phone_hash, device_hash, ip_hash, card_hash"
    " FROM applications WHERE {column}_hash {test} AND created_at > ?"
)
# no upper bound in SQL (`created_at <= as_of` is applied when sharing the rows out): with
# both bounds PostgreSQL's generic plan for the prepared statement took the created_at
# index and filtered the whole window (5.8 ms a statement instead of 0.05 ms)


def _recent_applications(
    session: Session, group: Sequence[HashedIdentifiers], as_of: datetime
) -> list[tuple[VelocityIndex, DeviceIndex]]:
    """For each applicant, the applications in the look-back window sharing any identifier
    with theirs — one statement for the group (a UNION of index scans, one per kind of
    identifier), shared out in memory."""
    parts: list[str] = []
    params: list[Any] = []
    for name in _IDENTIFIERS:
        values = sorted({v for ids in group if (v := getattr(ids, name)) is not None})
        if values:
            test, listed = in_list(session, values)
            parts.append(_RECENT.format(column=name, test=test))
            params.extend((*listed, as_of - LOOKBACK))
    sharing: dict[tuple[int, str], list[Any]] = {}
    if parts:
        unique = {
            row[0]: (row[0], at, *row[2:])
            for row in fetch(session, " UNION ALL ".join(parts), params)
            if (at := as_datetime(row[1])) <= as_of
        }
        for row in unique.values():
            for position, value in enumerate(row[2:]):
                if value is not None:
                    sharing.setdefault((position, value), []).append(row)
    out: list[tuple[VelocityIndex, DeviceIndex]] = []
    for ids in group:
        velocity, devices = VelocityIndex(), DeviceIndex()
        taken: set[int] = set()
        for position, name in enumerate(_IDENTIFIERS):
            value = getattr(ids, name)
            for app_id, at, id_hash, phone, device, ip, card in sharing.get((position, value), ()):
                if app_id in taken:
                    continue
                taken.add(app_id)
                created = at
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
        out.append((velocity, devices))
    return out


@dataclass(frozen=True, slots=True)
class Subject:
    """One application to gather features for, with what the caller already holds."""

    application: Application
    borrower: Borrower
    product: Product
    bureau_report: BureauReport | None
    region_code: str | None = None


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
    subject = Subject(application, borrower, product, bureau_report, region_code)
    return gather_many(
        session,
        [subject],
        as_of=as_of,
        today=today,
        blocked_regions=blocked_regions,
        anomaly_model=anomaly_model,
    )[0]


def gather_many(
    session: Session,
    subjects: Sequence[Subject],
    *,
    as_of: datetime,
    today: date,
    blocked_regions: frozenset[str] = frozenset(),
    anomaly_model: AnomalyModel | None = None,
) -> list[Gathered]:
    """The features of each subject as the database holds them at `as_of`, read with the
    same seven statements whether the group holds one application or fifty (contacts,
    cards, recent applications, two hops of links, the neighbours' flags, blacklist
    entries, loan histories); each application's features are exactly those it would get
    on its own."""
    if not subjects:
        return []
    borrower_ids = sorted({s.borrower.id for s in subjects})
    test, params = in_list(session, borrower_ids)
    contacts_of: dict[int, list[str]] = {}
    for borrower_id, phone_hash in fetch(
        session,
        f"SELECT borrower_id, phone_hash FROM contacts WHERE borrower_id {test}"
        " ORDER BY borrower_id, seq",
        params,
    ):
        contacts_of.setdefault(borrower_id, []).append(phone_hash)
    card_ids = sorted({s.application.card_id for s in subjects if s.application.card_id})
    card_status: dict[int, str] = {}
    if card_ids:
        test, params = in_list(session, card_ids)
        card_status = dict(
            fetch(session, f"SELECT id, status FROM bank_cards WHERE id {test}", params)
        )
    identifiers = [
        HashedIdentifiers(
            id_number=s.application.id_number_hash,
            phone=s.application.phone_hash,
            device=s.application.device_hash,
            ip=s.application.ip_hash,
            card=s.application.card_hash,
            contact_phones=tuple(contacts_of.get(s.borrower.id, ())),
        )
        for s in subjects
    ]
    recent = _recent_applications(session, identifiers, as_of)
    graphs = _relation_graphs(
        session,
        [
            (s.borrower.id, [v for v in (ids.phone, ids.device, *ids.contact_phones) if v])
            for s, ids in zip(subjects, identifiers, strict=True)
        ],
    )

    # the neighbours' flags: blacklisted (ID or phone) or overdue now — one query
    everyone = sorted(set().union(*(neighbours for _, neighbours, _ in graphs)))
    people: dict[int, tuple[str | None, str | None, bool]] = {}
    if everyone:
        test, params = in_list(session, everyone)
        for other, id_hash, phone_hash, overdue in fetch(
            session,
            "SELECT b.id, b.id_number_hash, b.mobile_hash, EXISTS (SELECT 1 FROM loans l"
            " WHERE l.borrower_id = b.id AND l.status = 'overdue')"
            f" FROM borrowers b WHERE b.id {test}",
            params,
        ):
            people[other] = (id_hash, phone_hash, bool(overdue))
    wanted: list[set[str]] = []
    for ids, (_, neighbours, _) in zip(identifiers, graphs, strict=True):
        hashes = {h for h in (ids.id_number, ids.phone, ids.device, ids.card) if h is not None}
        hashes.update(ids.contact_phones)
        for other in neighbours:
            id_hash, phone_hash, _ = people.get(other, (None, None, False))
            hashes.update(h for h in (id_hash, phone_hash) if h is not None)
        wanted.append(hashes)
    entries = active_entries(session, set().union(*wanted), as_of)
    history_of = histories(session, borrower_ids)
    return [
        _assemble(
            subject,
            ids,
            recent_indexes,
            graph,
            [entry for entry in entries if entry.value_hash in hashes],
            people,
            history_of[subject.borrower.id],
            card_status.get(subject.application.card_id or 0),
            as_of=as_of,
            today=today,
            blocked_regions=blocked_regions,
            anomaly_model=anomaly_model,
        )
        for subject, ids, recent_indexes, graph, hashes in zip(
            subjects, identifiers, recent, graphs, wanted, strict=True
        )
    ]


def _assemble(
    subject: Subject,
    identifiers: HashedIdentifiers,
    recent: tuple[VelocityIndex, DeviceIndex],
    neighbourhood: Neighbourhood,
    entries: list[BlacklistEntry],
    people: Mapping[int, tuple[str | None, str | None, bool]],
    own_history: BorrowerHistory,
    card_status: str | None,
    *,
    as_of: datetime,
    today: date,
    blocked_regions: frozenset[str],
    anomaly_model: AnomalyModel | None,
) -> Gathered:
    """One application's features from what `gather_many` read for the group."""
    application, borrower, product = subject.application, subject.borrower, subject.product
    graph, neighbours, first_seen = neighbourhood
    listed = {entry.value_hash for entry in entries}
    for other in neighbours:
        id_hash, phone_hash, overdue = people.get(other, (None, None, False))
        blacklisted = id_hash in listed or phone_hash in listed
        if blacklisted or overdue:
            graph.set_flags(str(other), blacklisted=blacklisted, overdue=overdue)
    velocity, devices = recent
    contacts = identifiers.contact_phones
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
            bureau_report=subject.bureau_report,
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
    region_code = subject.region_code
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
