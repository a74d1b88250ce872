"""`xindai serve`: the HTTP API (borrower and admin) with uvicorn."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from xindai.errors import InvalidValue


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    admin_password: Annotated[
        str | None,
        typer.Option(
            "--admin-password",
            envvar="XINDAI_ADMIN_PASSWORD",
            help="Create the first administrator 'admin' with this password",
        ),
    ] = None,
    demo_staff: Annotated[
        bool,
        typer.Option(
            "--demo-staff",
            help="Also create 'reviewer' (risk), 'finance' and 'ops' (operations) with the "
            "administrator's password (demo / tests)",
        ),
    ] = False,
) -> None:
    """Serve the borrower and admin APIs (OpenAPI at /docs) on the configured database."""
    import logging

    import uvicorn

    from xindai.security.pii import PiiRedactingFilter

    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(PiiRedactingFilter())  # no personal data in logs

    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store import migrate

    settings = get_settings()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if settings.uses_dev_keys and not loopback:
        raise InvalidValue(
            "--host",
            host,
            "development keys may only serve on loopback: set XINDAI_PII_KEY and XINDAI_SECRET_KEY",
            "开发密钥只能在本机使用",
        )
    migrate.upgrade(settings.database_url)
    platform = Platform.from_settings(settings)
    bootstrap(
        platform.sessions,
        cipher=platform.cipher,
        today=platform.clock().date(),
        admin_password=admin_password,
        staff={"reviewer": "risk", "finance": "finance", "ops": "operations"}
        if demo_staff
        else None,
        strategy_name=settings.strategy_name,
    )
    uvicorn.run(create_app(platform), host=host, port=port, log_level="warning")
