"""Strategy versions and the registry's events in the database: versions are rows never
updated; the registry (champion, challenger, promotions) is rebuilt by replaying its events,
so every change the risk team makes is on record."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.risk.engine.registry import RegistryEvent, StrategyRegistry
from xindai.risk.engine.strategy import StrategyVersion
from xindai.store.models_origination import StrategyEvent, StrategyVersionRecord


def load_registry(session: Session, name: str) -> StrategyRegistry:
    """The registry of strategy `name` as its stored versions and events make it."""
    versions = tuple(
        StrategyVersion(
            r.name, r.version, r.graph, r.content_hash, r.created_by, r.created_at, r.notes
        )
        for r in session.scalars(
            select(StrategyVersionRecord)
            .where(StrategyVersionRecord.name == name)
            .order_by(StrategyVersionRecord.version)
        )
    )
    registry = StrategyRegistry(name, versions)
    events = session.scalars(
        select(StrategyEvent).where(StrategyEvent.name == name).order_by(StrategyEvent.id)
    ).all()
    for event in events:
        if event.action == "promote" and event.version is not None:
            registry, _ = registry.promote(
                event.version, actor=event.actor, at=event.at, reason=event.reason or "replayed"
            )
        elif event.action == "rollback":
            registry, _ = registry.rollback(actor=event.actor, at=event.at, reason=event.reason)
        elif event.action == "challenger" and event.version is not None:
            share = Decimal(json.loads(event.detail).get("share", "0"))
            registry, _ = registry.set_challenger(
                event.version, share, actor=event.actor, at=event.at
            )
        elif event.action == "stop_challenger":
            registry, _ = registry.set_challenger(None, Decimal(0), actor=event.actor, at=event.at)
    return registry


def record(session: Session, event: RegistryEvent, version: StrategyVersion | None = None) -> None:
    """Store a new version (if any) and the event, in the caller's transaction."""
    if version is not None:
        session.add(
            StrategyVersionRecord(
                name=version.name,
                version=version.version,
                graph=version.graph_json,
                content_hash=version.content_hash,
                created_by=version.created_by,
                created_at=version.created_at,
                notes=version.notes,
            )
        )
    detail: dict[str, Any] = dict(event.detail)
    session.add(
        StrategyEvent(
            name=event.strategy,
            action=event.action,
            version=event.version,
            actor=event.actor,
            at=event.at,
            reason=event.reason,
            detail=json.dumps(detail),
        )
    )
    session.flush()
