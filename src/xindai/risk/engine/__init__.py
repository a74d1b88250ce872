"""The decision engine (决策引擎): strategies as GoRules JDM graphs evaluated by zen-engine,
immutable versions, a registry with promotion, rollback and champion/challenger routing.
"""

from xindai.risk.engine.registry import StrategyRegistry
from xindai.risk.engine.routing import challenger_bucket, route_version
from xindai.risk.engine.strategy import StrategyVersion
from xindai.risk.engine.zen import CompiledStrategy, EngineResult, FiredRule, StrategyEngine

__all__ = [
    "CompiledStrategy",
    "EngineResult",
    "FiredRule",
    "StrategyEngine",
    "StrategyRegistry",
    "StrategyVersion",
    "challenger_bucket",
    "route_version",
]
