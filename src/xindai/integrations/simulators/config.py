"""Configuration of the simulator process: one frozen `SimulatorConfig`, from CLI options or
the environment (`XINDAI_SIM_<FIELD>`, e.g. XINDAI_SIM_LATENCY_MS=50).

Per-provider overrides are `provider=value` lists: XINDAI_SIM_PROVIDER_LATENCY_MS="pay=200,
bureau=50", XINDAI_SIM_PROVIDER_ERROR_RATE="bureau=0.1". Providers: sms, pay, bureau,
identity, esign.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from xindai.errors import InvalidValue

PROVIDERS = ("sms", "pay", "bureau", "identity", "esign")
ENV_PREFIX = "XINDAI_SIM_"
DEFAULT_SECRET = "xindai-simulator-secret"
Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class SimulatorConfig:
    """Times in milliseconds unless the name says seconds; rates are shares in [0, 1].

    - `latency_ms`, `error_rate`: added delay and share of requests answered 503, for every
      provider; `provider_latency_ms` / `provider_error_rate` override them per provider;
    - `payment_failure_rate`: share of payouts and withholdings that fail;
    - `duplicate_rate`, `late_rate`: share of payment callbacks sent twice (same event id) /
      held back `late_delay_ms` before the first delivery;
    - `callback_delay_ms`: time from acceptance to the transfer's result and first callback;
      a non-2xx answer is retried after `callback_retry_ms`, doubling, at most
      `callback_max_attempts` deliveries;
    - `card_code_ttl_s`: life of the card-binding SMS code; `channel`: the channel name in
      statements; `seed`: the random generator's seed (rates, codes, …).
    """

    secret: str = DEFAULT_SECRET
    latency_ms: int = 0
    error_rate: float = 0.0
    provider_latency_ms: Mapping[str, int] = field(default_factory=dict)
    provider_error_rate: Mapping[str, float] = field(default_factory=dict)
    payment_failure_rate: float = 0.0
    duplicate_rate: float = 0.0
    late_rate: float = 0.0
    late_delay_ms: int = 5000
    callback_delay_ms: int = 200
    callback_retry_ms: int = 500
    callback_max_attempts: int = 6
    card_code_ttl_s: int = 300
    channel: str = "simpay"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.secret:
            raise InvalidValue("secret", "", "must not be empty", "不能为空")
        for name in ("error_rate", "payment_failure_rate", "duplicate_rate", "late_rate"):
            _rate(name, getattr(self, name))
        for name in ("latency_ms", "late_delay_ms", "callback_delay_ms", "callback_retry_ms"):
            _non_negative(name, getattr(self, name))
        _non_negative("card_code_ttl_s", self.card_code_ttl_s)
        if self.callback_max_attempts < 1:
            raise InvalidValue(
                "callback_max_attempts", self.callback_max_attempts, "must be ≥ 1", "至少为 1"
            )
        for provider, latency in self.provider_latency_ms.items():
            _provider(provider)
            _non_negative(f"{provider} latency_ms", latency)
        for provider, rate in self.provider_error_rate.items():
            _provider(provider)
            _rate(f"{provider} error_rate", rate)
        object.__setattr__(self, "provider_latency_ms", dict(self.provider_latency_ms))
        object.__setattr__(self, "provider_error_rate", dict(self.provider_error_rate))

    def latency_for(self, provider: str) -> int:
        return self.provider_latency_ms.get(provider, self.latency_ms)

    def error_rate_for(self, provider: str) -> float:
        return self.provider_error_rate.get(provider, self.error_rate)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> SimulatorConfig:
        """The defaults, replaced by `XINDAI_SIM_*` variables, replaced by `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        defaults = cls()
        for spec in fields(cls):
            text = env.get(ENV_PREFIX + spec.name.upper())
            if text is None or text.strip() == "":
                continue
            default = getattr(defaults, spec.name)
            name = ENV_PREFIX + spec.name.upper()
            if spec.name == "provider_latency_ms":
                values[spec.name] = parse_provider_values(text, int, name)
            elif spec.name == "provider_error_rate":
                values[spec.name] = parse_provider_values(text, float, name)
            else:
                values[spec.name] = _convert(type(default), text.strip(), name)
        return replace(cls(**values), **overrides)

    def to_env(self) -> dict[str, str]:
        """The environment variables that make `from_env` return this configuration."""
        env: dict[str, str] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, Mapping):
                text = ",".join(f"{key}={item}" for key, item in value.items())
            else:
                text = str(value)
            env[ENV_PREFIX + spec.name.upper()] = text
        return env


def _provider(name: str) -> str:
    if name not in PROVIDERS:
        raise InvalidValue(
            "provider", name, f"must be one of {', '.join(PROVIDERS)}", "未知的外部服务"
        )
    return name


def _rate(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise InvalidValue(name, value, "must be between 0 and 1", "应在 0 到 1 之间")


def _non_negative(name: str, value: int) -> None:
    if value < 0:
        raise InvalidValue(name, value, "must not be negative", "不能为负")


def _convert(kind: type, text: str, name: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise InvalidValue(name, text, f"must be a {kind.__name__}", "格式错误") from None


def parse_provider_values(
    text: str | list[str], kind: type[Number], name: str
) -> dict[str, Number]:
    """Parse `pay=200,bureau=50` (or a list of such items) into {provider: value}."""
    items = text if isinstance(text, list) else text.split(",")
    result: dict[str, Number] = {}
    for item in (entry.strip() for entry in items):
        if not item:
            continue
        provider, sep, value = item.partition("=")
        if not sep:
            raise InvalidValue(name, item, "must be provider=value", "应为 服务=值")
        result[_provider(provider.strip())] = _convert(kind, value.strip(), name)
    return result
