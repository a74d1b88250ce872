"""`xindai sim …`: run the external-service simulators (SMS, payment, bureau, identity,
e-signature) as one local HTTP process."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xindai.errors import InvalidValue
from xindai.integrations.simulators.config import (
    DEFAULT_SECRET,
    PROVIDERS,
    SimulatorConfig,
    parse_provider_values,
)

app = typer.Typer(help="External-service simulators / 外部服务模拟器", no_args_is_help=True)

_RATE_HELP = "share in [0, 1]"


@app.callback()
def sim() -> None:
    """External-service simulators / 外部服务模拟器 (a group even with one command)."""


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on / 监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port / 端口")] = 8700,
    latency_ms: Annotated[
        int,
        typer.Option(
            "--latency-ms", envvar="XINDAI_SIM_LATENCY_MS", help="Added latency, every provider"
        ),
    ] = 0,
    error_rate: Annotated[
        float,
        typer.Option(
            "--error-rate",
            envvar="XINDAI_SIM_ERROR_RATE",
            help=f"Requests answered 503, every provider ({_RATE_HELP})",
        ),
    ] = 0.0,
    provider_latency_ms: Annotated[
        list[str] | None,
        typer.Option(
            "--provider-latency-ms",
            help=f"Per-provider latency, repeatable: pay=200 ({', '.join(PROVIDERS)})",
        ),
    ] = None,
    provider_error_rate: Annotated[
        list[str] | None,
        typer.Option(
            "--provider-error-rate", help="Per-provider 503 share, repeatable: bureau=0.1"
        ),
    ] = None,
    payment_failure_rate: Annotated[
        float,
        typer.Option(
            "--payment-failure-rate",
            envvar="XINDAI_SIM_PAYMENT_FAILURE_RATE",
            help=f"Payouts and withholdings that fail ({_RATE_HELP}) / 支付失败率",
        ),
    ] = 0.0,
    duplicate_rate: Annotated[
        float,
        typer.Option(
            "--duplicate-rate",
            envvar="XINDAI_SIM_DUPLICATE_RATE",
            help=f"Callbacks sent twice ({_RATE_HELP}) / 重复回调比例",
        ),
    ] = 0.0,
    late_rate: Annotated[
        float,
        typer.Option(
            "--late-rate",
            envvar="XINDAI_SIM_LATE_RATE",
            help=f"Callbacks held back --late-delay-ms ({_RATE_HELP}) / 延迟回调比例",
        ),
    ] = 0.0,
    late_delay_ms: Annotated[
        int, typer.Option("--late-delay-ms", envvar="XINDAI_SIM_LATE_DELAY_MS")
    ] = 5000,
    callback_delay_ms: Annotated[
        int,
        typer.Option(
            "--callback-delay-ms",
            envvar="XINDAI_SIM_CALLBACK_DELAY_MS",
            help="From acceptance to the transfer's result and callback",
        ),
    ] = 200,
    channel: Annotated[
        str, typer.Option(envvar="XINDAI_SIM_CHANNEL", help="Channel name in statements")
    ] = "simpay",
    secret: Annotated[
        str,
        typer.Option(
            envvar="XINDAI_SIM_SECRET",
            help="Shared secret for request and callback signatures / 签名密钥",
        ),
    ] = DEFAULT_SECRET,
    seed: Annotated[int, typer.Option(envvar="XINDAI_SIM_SEED", help="Random seed")] = 0,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level")] = "info",
) -> None:
    """Serve the simulators under /sms, /pay, /bureau, /identity, /esign (+ /health)."""
    if not 1 <= port <= 65535:
        raise InvalidValue(
            "--port", port, "must be between 1 and 65535", "端口应在 1 到 65535 之间"
        )
    overrides: dict[str, Any] = {
        "secret": secret,
        "latency_ms": latency_ms,
        "error_rate": error_rate,
        "payment_failure_rate": payment_failure_rate,
        "duplicate_rate": duplicate_rate,
        "late_rate": late_rate,
        "late_delay_ms": late_delay_ms,
        "callback_delay_ms": callback_delay_ms,
        "channel": channel,
        "seed": seed,
    }
    if provider_latency_ms:
        overrides["provider_latency_ms"] = parse_provider_values(
            provider_latency_ms, int, "--provider-latency-ms"
        )
    if provider_error_rate:
        overrides["provider_error_rate"] = parse_provider_values(
            provider_error_rate, float, "--provider-error-rate"
        )
    # options not on the command line (callback retries, code life …) come from XINDAI_SIM_*
    config = SimulatorConfig.from_env(**overrides)
    typer.echo(
        f"xindai simulators on http://{host}:{port} "
        f"(/sms /pay /bureau /identity /esign, channel {config.channel})",
        err=True,
    )
    from xindai.integrations.simulators.server import serve as serve_simulators

    serve_simulators(config, host=host, port=port, log_level=log_level)
