"""The strategy registry: versions are created, tested, promoted and rolled back; a share of
traffic can go to a challenger. A pure value: every operation returns a new registry and the
event to record, so that the store can persist both in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from xindai.errors import InvalidValue, XindaiError
from xindai.risk.engine.routing import route_version
from xindai.risk.engine.strategy import StrategyVersion


class StrategyStateError(XindaiError):
    code = "STRATEGY_STATE"


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """What changed, by whom, when and why (the audit trail of the risk team)."""

    action: str  # create | promote | rollback | challenger | stop_challenger
    strategy: str
    version: int | None
    actor: str
    at: str
    reason: str = ""
    detail: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StrategyRegistry:
    """All versions of one strategy and which is live."""

    name: str
    versions: tuple[StrategyVersion, ...] = ()
    champion: int | None = None
    challenger: int | None = None
    challenger_share: Decimal = Decimal(0)
    promotions: tuple[int, ...] = field(default=())  # champions in order, for rollback

    def version(self, number: int) -> StrategyVersion:
        for candidate in self.versions:
            if candidate.version == number:
                return candidate
        raise InvalidValue(
            "strategy.version",
            number,
            f"{self.name} has no such version",
            f"策略 {self.name} 没有该版本",
        )

    @property
    def latest(self) -> int:
        return max((v.version for v in self.versions), default=0)

    def create(
        self, graph: dict[str, Any], *, actor: str, at: str, notes: str = ""
    ) -> tuple[StrategyRegistry, StrategyVersion, RegistryEvent]:
        """Add a new immutable version (the next number). The same graph as an existing
        version is refused: versions are never duplicated."""
        candidate = StrategyVersion.create(
            self.name, self.latest + 1, graph, created_by=actor, created_at=at, notes=notes
        )
        for existing in self.versions:
            if existing.content_hash == candidate.content_hash:
                raise StrategyStateError(
                    f"{self.name}: the graph is identical to v{existing.version}",
                    f"策略 {self.name} 与 v{existing.version} 内容相同",
                )
        event = RegistryEvent("create", self.name, candidate.version, actor, at, notes)
        return replace(self, versions=(*self.versions, candidate)), candidate, event

    def promote(
        self, number: int, *, actor: str, at: str, reason: str
    ) -> tuple[StrategyRegistry, RegistryEvent]:
        """Make `number` the champion (live). A running challenger of that version ends."""
        self.version(number)
        if number == self.champion:
            raise StrategyStateError(
                f"{self.name} v{number} is already live", f"策略 {self.name} v{number} 已是线上版本"
            )
        if not reason.strip():
            raise InvalidValue("reason", reason, "a promotion needs a reason", "上线需要说明原因")
        challenger = None if self.challenger == number else self.challenger
        share = self.challenger_share if challenger is not None else Decimal(0)
        updated = replace(
            self,
            champion=number,
            challenger=challenger,
            challenger_share=share,
            promotions=(*self.promotions, number),
        )
        return updated, RegistryEvent("promote", self.name, number, actor, at, reason)

    def rollback(
        self, *, actor: str, at: str, reason: str
    ) -> tuple[StrategyRegistry, RegistryEvent]:
        """Return to the previous champion."""
        if len(self.promotions) < 2:
            raise StrategyStateError(
                f"{self.name} has no earlier live version", f"策略 {self.name} 没有可回滚的版本"
            )
        previous = self.promotions[-2]
        updated = replace(self, champion=previous, promotions=self.promotions[:-1])
        return updated, RegistryEvent(
            "rollback", self.name, previous, actor, at, reason, (("from", str(self.champion)),)
        )

    def set_challenger(
        self, number: int | None, share: Decimal, *, actor: str, at: str, reason: str = ""
    ) -> tuple[StrategyRegistry, RegistryEvent]:
        """Send `share` (0–0.5) of traffic to version `number`; None stops the challenger."""
        if number is None:
            return (
                replace(self, challenger=None, challenger_share=Decimal(0)),
                RegistryEvent("stop_challenger", self.name, None, actor, at, reason),
            )
        self.version(number)
        if self.champion is None:
            raise StrategyStateError(
                f"{self.name} has no live version yet", f"策略 {self.name} 尚无线上版本"
            )
        if number == self.champion:
            raise StrategyStateError(
                "the challenger must differ from the champion", "挑战者版本不能与冠军版本相同"
            )
        if not Decimal(0) < share <= Decimal("0.5"):
            raise InvalidValue(
                "challenger_share",
                str(share),
                "must be above 0 and at most 0.5",
                "挑战者流量占比应在 0 到 0.5 之间",
            )
        return (
            replace(self, challenger=number, challenger_share=share),
            RegistryEvent(
                "challenger", self.name, number, actor, at, reason, (("share", str(share)),)
            ),
        )

    def version_for(self, application_id: str) -> StrategyVersion:
        """The version an application runs under champion/challenger routing."""
        if self.champion is None:
            raise StrategyStateError(
                f"{self.name} has no live version", f"策略 {self.name} 没有线上版本"
            )
        number = route_version(
            application_id, self.champion, self.challenger, self.challenger_share, salt=self.name
        )
        return self.version(number)
