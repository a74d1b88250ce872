"""`xindai staff …`: staff account recovery from the server's command line — clear a login
lockout, remove a lost second factor. Each is audited with the actor "cli:<os user>"."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from xindai import clock
from xindai.cli.context import DatabaseOption, sessions
from xindai.security.pii import PiiCipher
from xindai.security.staff import StaffService
from xindai.settings import get_settings
from xindai.store.db import transaction

app = typer.Typer(help="Staff accounts / 员工账号", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="The staff user's username / 用户名")]


def cli_actor() -> str:
    """Who runs the command, as the audit records it: "cli:<os user>"."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (containers)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"[:64]


@app.command("unlock")
def unlock(username: Username, database: DatabaseOption = None) -> None:
    """Clear the login lockout of USERNAME: its failed logins so far no longer count, from
    any client / 解除登录锁定."""
    factory = sessions(database)
    service = StaffService(factory, PiiCipher(get_settings().key_bytes("pii")))
    with transaction(factory) as session:
        staff_id = service.unlock(session, username, now=clock.now(), actor=cli_actor())
    print(f"Unlocked staff user {username.strip().lower()} (id {staff_id}); audited.")


@app.command("reset-totp")
def reset_totp(username: Username, database: DatabaseOption = None) -> None:
    """Remove the second factor (TOTP) of USERNAME, e.g. for a lost phone, and end its
    sessions: it logs in with its password and enrols again / 重置动态口令."""
    factory = sessions(database)
    service = StaffService(factory, PiiCipher(get_settings().key_bytes("pii")))
    with transaction(factory) as session:
        staff_id = service.reset_totp(session, username, now=clock.now(), actor=cli_actor())
    print(
        f"Removed the second factor of staff user {username.strip().lower()} (id {staff_id}) "
        "and ended its sessions; audited. It should enrol a new one at its next login."
    )
