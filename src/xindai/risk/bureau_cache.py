"""The credit-bureau report of a person (征信), fetched through the bureau provider and cached
per person (by the ID number's keyed hash) for `Settings.bureau_cache_days`: a repeat
application within the window costs one indexed read, not a paid bureau query."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from xindai import jsontext
from xindai.integrations.errors import ProviderError
from xindai.integrations.ports import CreditBureau
from xindai.integrations.wire import bureau_report_from_json, bureau_report_to_json
from xindai.risk.antifraud import BureauReport
from xindai.security.pii import PiiCipher
from xindai.store.fastsql import as_datetime, fetch, in_list
from xindai.store.models_risk import BureauReportCache

CACHE, PROVIDER, UNAVAILABLE = "cache", "provider", "unavailable"


@dataclass(frozen=True, slots=True)
class BureauLookup:
    """The report (None when the bureau could not be reached) and where it came from."""

    report: BureauReport | None
    source: str  # cache | provider | unavailable
    fetched_at: datetime | None
    error: str | None = None


def cached_report(
    session: Session, cipher: PiiCipher, id_number_hash: str, now: datetime, days: int
) -> BureauLookup | None:
    """The cached report if fetched within `days` of `now`, else None."""
    return cached_reports(session, cipher, [id_number_hash], now, days).get(id_number_hash)


def cached_reports(
    session: Session, cipher: PiiCipher, id_number_hashes: Sequence[str], now: datetime, days: int
) -> dict[str, BureauLookup]:
    """The fresh cached report (fetched within `days` of `now`) of each person that has
    one, by ID number hash: one query for all."""
    wanted = sorted(set(id_number_hashes))
    if not wanted:
        return {}
    test, params = in_list(session, wanted)
    rows = fetch(
        session,
        "SELECT id_number_hash, fetched_at, report_enc FROM bureau_reports"
        f" WHERE id_number_hash {test}",
        params,
    )
    oldest = now - timedelta(days=days)
    found: dict[str, BureauLookup] = {}
    for id_number_hash, fetched, report_enc in rows:
        fetched_at = as_datetime(fetched)
        if oldest <= fetched_at <= now:
            data = jsontext.loads(cipher.decrypt("bureau", report_enc))
            found[id_number_hash] = BureauLookup(bureau_report_from_json(data), CACHE, fetched_at)
    return found


def store_report(
    session: Session, cipher: PiiCipher, id_number_hash: str, report: BureauReport, now: datetime
) -> None:
    text = cipher.encrypt("bureau", json.dumps(bureau_report_to_json(report), ensure_ascii=False))
    row = session.get(BureauReportCache, id_number_hash)
    if row is None:
        session.add(
            BureauReportCache(id_number_hash=id_number_hash, fetched_at=now, report_enc=text)
        )
    else:
        row.fetched_at, row.report_enc = now, text


def bureau_report(
    sessions: sessionmaker[Session],
    cipher: PiiCipher,
    bureau: CreditBureau,
    *,
    id_number: str,
    name: str,
    id_number_hash: str,
    now: datetime,
    days: int,
) -> BureauLookup:
    """The person's report: from the cache when fresh, else from the bureau (then cached).
    A bureau that cannot be reached gives `UNAVAILABLE` (the decision sends such an
    application to review rather than failing it)."""
    with sessions() as session:
        found = cached_report(session, cipher, id_number_hash, now, days)
    if found is not None:
        return found
    try:
        report = bureau.report(id_number, name, as_of=now.date())
    except ProviderError as exc:
        return BureauLookup(None, UNAVAILABLE, None, exc.code)
    with sessions.begin() as session:
        store_report(session, cipher, id_number_hash, report, now)
    return BureauLookup(report, PROVIDER, now)
