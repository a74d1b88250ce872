"""`xindai serve`: the HTTP API (borrower and admin) with uvicorn.

What keeps a served platform safe to reach:
- beyond loopback, or behind a proxy (`XINDAI_TRUSTED_PROXIES`), it refuses to start while
  a secret is a public development value, and names each one;
- the first administrator's password comes from `XINDAI_ADMIN_PASSWORD` or a hidden prompt,
  never from the command line (which every user of the machine sees in `ps`);
- `X-Forwarded-For` / `-Proto` are believed only from the proxies named in
  `XINDAI_TRUSTED_PROXIES` (default none: the client address is the connection's);
- once listening it prints the URLs it serves, on stdout.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from xindai.errors import InvalidValue

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session, sessionmaker

    from xindai.settings import Settings

ADMIN_PASSWORD_ENV: Final = "XINDAI_ADMIN_PASSWORD"
ADMIN_USERNAME: Final = "admin"
PROMPT_TRIES: Final = 3
GENERATE_SECRET: Final = (
    "python3 -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'"
)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one, printed)")] = 8000,
    admin_password: Annotated[
        str | None,
        typer.Option(
            "--admin-password",
            hidden=True,
            show_default=False,
            help="Refused: set XINDAI_ADMIN_PASSWORD instead (argv is visible in ps)",
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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (each its own engine and platform) / 工作进程数",
        ),
    ] = 1,
) -> None:
    """Serve the borrower and admin APIs (OpenAPI at /docs) on the configured database.

    The first administrator 'admin' is created with the password in XINDAI_ADMIN_PASSWORD,
    or one asked for (hidden) when no administrator exists and stdin is a terminal."""
    if admin_password is not None:
        raise InvalidValue(
            "--admin-password",
            "<hidden>",
            f"no longer accepted, a command line is visible to every user (ps): set "
            f"{ADMIN_PASSWORD_ENV} or answer the prompt",
            f"不再接受：命令行参数对本机所有用户可见（ps），"
            f"请设置 {ADMIN_PASSWORD_ENV} 或在提示时输入",
        )
    _redact_logs()

    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store import migrate

    settings = get_settings()
    proxies = trusted_proxies(settings.trusted_proxies)
    check_secrets(settings, host, behind_proxy=bool(proxies))
    password = os.environ.pop(ADMIN_PASSWORD_ENV, None) or None  # not inherited further
    migrate.upgrade(settings.database_url)
    platform = Platform.from_settings(settings)
    if password is None and not has_admin(platform.sessions):
        password = _ask_admin_password()
    bootstrap(
        platform.sessions,
        cipher=platform.cipher,
        today=platform.clock().date(),
        admin_password=password,
        staff={"reviewer": "risk", "finance": "finance", "ops": "operations"}
        if demo_staff
        else None,
        strategy_name=settings.strategy_name,
    )
    app = create_app(platform)
    _run(app, host=host, port=port, proxies=proxies, workers=workers)


def _redact_logs() -> None:
    import logging

    from xindai.security.pii import PiiRedactingFilter

    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(PiiRedactingFilter())  # no personal data in logs


def worker_app() -> FastAPI:
    """The app of one worker process of `serve --workers N` (uvicorn's factory): its own
    platform and engine from the settings; the database was migrated and seeded by the
    parent before any worker started."""
    from xindai.api.app import create_app

    _redact_logs()
    return create_app()


# ------------------------------------------------------------------ checks before serving


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def trusted_proxies(text: str) -> list[str]:
    """The entries of XINDAI_TRUSTED_PROXIES (IP addresses or CIDR networks, comma-separated),
    each checked; empty when none are named."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise InvalidValue(
                "XINDAI_TRUSTED_PROXIES",
                entry,
                "not an IP address or CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24)",
                "不是 IP 地址或 CIDR 网段（如 10.0.0.5 或 10.0.0.0/24）",
            ) from None
    return entries


def check_secrets(settings: Settings, host: str, *, behind_proxy: bool = False) -> None:
    """Raise `InvalidValue` when a key is malformed, or when the platform would be reachable
    from elsewhere (a non-loopback `host`, or a proxy in front) while any secret is still a
    public development value; the message names every such variable."""
    for name in ("pii", "secret"):
        try:
            settings.key_bytes(name)
        except ValueError:  # also binascii.Error: not base64
            raise InvalidValue(
                f"XINDAI_{name.upper()}_KEY",
                "<hidden>",
                f"must be base64 of at least 32 random bytes: {GENERATE_SECRET}",
                f"须为至少 32 个随机字节的 base64：{GENERATE_SECRET}",
            ) from None
    missing = settings.development_defaults()
    if not missing or (is_loopback(host) and not behind_proxy):
        return
    where_en = "behind XINDAI_TRUSTED_PROXIES" if is_loopback(host) else "beyond loopback"
    where_zh = "在反向代理之后" if is_loopback(host) else "在本机回环地址以外"
    names = ", ".join(missing)
    raise InvalidValue(
        "--host",
        host,
        f"refusing to serve {where_en} with development secrets: set {names} "
        f"(each a new random value, e.g. {GENERATE_SECRET}; the provider secret is the one "
        "agreed with the payment channel)",
        f"拒绝{where_zh}使用开发密钥提供服务：请设置 {names}（各用新的随机值，如 "
        f"{GENERATE_SECRET}；XINDAI_PROVIDER_SECRET 为与支付渠道约定的密钥）",
    )


def has_admin(sessions: sessionmaker[Session]) -> bool:
    from sqlalchemy import select

    from xindai.store.models_origination import StaffUser

    with sessions() as session:
        found = session.scalar(select(StaffUser.id).where(StaffUser.role == "admin").limit(1))
    return found is not None


def _ask_admin_password() -> str | None:
    """A password for the first administrator, asked (hidden, twice) when stdin is a
    terminal; None otherwise, with a hint on stderr."""
    from xindai.security.errors import PasswordPolicyError
    from xindai.security.passwords import check_password_policy

    if not sys.stdin.isatty():
        print(
            f"No administrator yet: set {ADMIN_PASSWORD_ENV} (or start `xindai serve` in a "
            "terminal to be asked) to create 'admin'.",
            file=sys.stderr,
            flush=True,
        )
        return None
    for attempt in range(1, PROMPT_TRIES + 1):
        password: str = typer.prompt(
            f"Password for the new administrator '{ADMIN_USERNAME}' / 管理员密码",
            hide_input=True,
            confirmation_prompt=True,
        )
        try:
            check_password_policy(password, username=ADMIN_USERNAME)
        except PasswordPolicyError as error:
            if attempt == PROMPT_TRIES:
                raise
            print(f"{error.message_en} / {error.message_zh}", file=sys.stderr, flush=True)
            continue
        return password
    return None  # pragma: no cover - the loop returns or raises


# ------------------------------------------------------------------ serving


def served_urls(app: FastAPI, base_url: str) -> list[tuple[str, str]]:
    """What `app` serves under `base_url`, as (label, URL): the API, its documentation, the
    health check, and the console (/admin/) and borrower app (/app/) when they are there."""
    paths = {getattr(route, "path", "") for route in app.routes}

    def present(prefix: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for path in paths)

    urls: list[tuple[str, str]] = []
    if present("/admin"):
        urls.append(("Console 管理后台", f"{base_url}/admin/"))
    if present("/app"):
        urls.append(("Borrower app 借款人端", f"{base_url}/app/"))
    urls.append(("API", f"{base_url}/api/v1/"))
    if app.docs_url:
        urls.append(("API docs 接口文档", f"{base_url}{app.docs_url}"))
    urls.append(("Health 健康检查", f"{base_url}/health"))
    return urls


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _announce(app: FastAPI, host: str, port: int) -> None:
    base = base_url(host, port)
    lines = [f"Xindai is serving at {base} (Ctrl+C to stop)"]
    lines += [f"  {label:<22} {url}" for label, url in served_urls(app, base)]
    print("\n".join(lines), flush=True)


def _run(app: FastAPI, *, host: str, port: int, proxies: list[str], workers: int = 1) -> None:
    import uvicorn

    if workers > 1:
        # each worker builds its own platform (engine, caches) from the settings: nothing of
        # the app's state is shared between processes but the database
        config = uvicorn.Config(
            "xindai.cli.serve:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies,
        )
        from uvicorn.supervisors import Multiprocess

        sock = config.bind_socket()
        _announce(app, host, int(sock.getsockname()[1]))
        Multiprocess(config, sockets=[sock]).run()
        return

    class AnnouncingServer(uvicorn.Server):
        """Prints the served URLs once the socket listens (uvicorn's own log is quiet)."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if not self.started:
                return
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            _announce(app, host, int(bound))

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # forwarded headers only from the named proxies; uvicorn's default trusts loopback
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )
    AnnouncingServer(config).run()
