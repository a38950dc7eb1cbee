"""A few PostgreSQL connections shared by the threads of one process.

A psycopg connection runs one transaction at a time, so threads that shared
one would interleave their statements in each other's transactions (and in each
other's per-session staging tables). The pool hands each caller a connection
of its own for the length of one call: up to ``size`` callers run at once, the
rest wait. Connections open on first need and are kept for the next caller; a
broken one, or one the server ended while it sat idle, is closed and replaced
by a fresh one.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Up to ``size`` connections made by ``connect``, each lent to one caller at a time.

    Parameters
    ----------
    connect : callable
        Opens a ready-to-use connection (it may raise; nothing is lent then).
    size : int
        The most connections open at once.
    first : psycopg.Connection, optional
        An open connection to start with.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        size: int,
        first: psycopg.Connection | None = None,
    ) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(max(1, int(size)))
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection] = [] if first is None else [first]
        self.closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection for this caller alone until the block ends.

        Raises
        ------
        psycopg.OperationalError
            If the pool is closed.
        """
        with self._slots:
            con = self._idle_connection()
            con = con or self._connect()
            try:
                yield con
            finally:
                self._give_back(con)

    def _idle_connection(self) -> psycopg.Connection | None:
        """A kept connection that is still alive; dead ones are closed on the way."""
        while True:
            with self._lock:
                if self.closed:
                    raise psycopg.OperationalError("the connection is closed")
                if not self._idle:
                    return None
                con = self._idle.pop()
            if _alive(con):
                return con
            con.close()  # the server ended it while it sat idle (restart, admin, timeout)

    def _give_back(self, con: psycopg.Connection) -> None:
        reusable = (
            not con.closed
            and not con.broken
            and con.info.transaction_status == TransactionStatus.IDLE
        )
        with self._lock:
            if reusable and not self.closed:
                self._idle.append(con)
                return
        con.close()

    def close(self) -> None:
        """Close the idle connections now and the lent ones when they come back."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()


def _alive(con: psycopg.Connection) -> bool:
    """False for a connection the server ended while it was idle.

    An idle connection has nothing to read; a server that ends it (a restart,
    ``pg_terminate_backend``, an idle timeout) sends a last message or closes
    the socket, which makes it readable. Checked without a round trip.
    """
    if con.closed or con.broken:
        return False
    try:
        readable, _, _ = select.select([con.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
