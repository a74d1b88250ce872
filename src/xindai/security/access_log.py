"""The access log of read-only admin calls: audit entries written in batches by one thread,
off the request path.

A staff member's read (a list, a detail, an export's GET) is audited like a change, but its
answer does not wait for the database's write lock, which close of business or a stream of
repayments may hold: the entry is queued and written within `interval_s` by the writer
thread, in one transaction for the whole batch. A batch that cannot be written is kept and
tried again; `close()` writes what is left (the server calls it on shutdown). Changes are
still audited in their own transaction (`audit.record`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from xindai.security.audit import append_many, new_entry

logger = logging.getLogger("xindai.audit")

WARN_BACKLOG: Final = 100_000


class AccessLog:
    """Queue of audit entries (the keyword arguments of `audit.new_entry`)."""

    def __init__(self, sessions: sessionmaker[Session], *, interval_s: float = 0.5) -> None:
        self._sessions = sessions
        self._interval_s = interval_s
        self._pending: list[dict[str, Any]] = []
        self._in_flight = 0  # taken by a flush that has not written them yet
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._writer: threading.Thread | None = None
        self._write_lock = threading.Lock()

    def add(self, **entry: Any) -> None:
        """Queue one entry; it is written within about `interval_s`."""
        with self._lock:
            self._pending.append(entry)
            backlog = len(self._pending)
            if self._writer is None and not self._closed.is_set():
                self._writer = threading.Thread(
                    target=self._run, name="xindai-access-log", daemon=True
                )
                self._writer.start()
        if backlog == WARN_BACKLOG:
            logger.warning("access log: %d entries waiting for the database", backlog)

    def flush(self) -> int:
        """Write every queued entry now, in one transaction; how many were written (0 when
        the database refused them: they stay queued)."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                self._in_flight = len(batch)
            if not batch:
                return 0
            try:
                with self._sessions.begin() as session:
                    append_many(session, [new_entry(**entry) for entry in batch])
            except Exception:
                logger.exception("access log: %d entries not written yet", len(batch))
                with self._lock:
                    self._pending[:0] = batch
                    self._in_flight = 0
                return 0
            with self._lock:
                self._in_flight = 0
            return len(batch)

    @property
    def backlog(self) -> int:
        """Entries not written yet: queued, or in a batch waiting for the database."""
        with self._lock:
            return len(self._pending) + self._in_flight

    def close(self) -> None:
        """Stop the writer and write what is left."""
        self._closed.set()
        self._wake.set()
        writer = self._writer
        if writer is not None:
            writer.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            self.flush()
