"""The connection pool: its size, timeouts and recycling, from the settings.

They are set here and nowhere else; engine.py adds what this database's driver
needs on each connection.
"""

from typing import Any

from sqlalchemy import URL, event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from ..config import Settings
from . import metrics

# Seconds a statement may go unanswered beyond the server's own statement
# timeout before the client gives up on the connection: the server cancels a
# slow statement itself and says so at once, so a server that stays silent this
# long is hung or cut off (SIGSTOP, a frozen VM, a network partition). Without
# a client-side limit a request on such a connection waits until TCP gives up,
# which takes hours.
UNANSWERED_GRACE_SECONDS = 2.0


class DatabaseUnreachable(ConnectionError):
    """The database cannot be reached: a connect refused, unreachable or timed
    out, or a connection whose server stopped answering."""


def unanswered_after(statement_timeout: float) -> float | None:
    """The client-side limit for one statement (None: the server sets none)."""
    if statement_timeout <= 0:
        return None
    return statement_timeout + UNANSWERED_GRACE_SECONDS


def create_pooled_engine(
    settings: Settings, url: URL | None, connect_args: dict[str, Any]
) -> AsyncEngine:
    """An engine for `url` (by default the configured one) with the pool."""
    engine = create_async_engine(
        url or settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        # SQLAlchemy's pre-ping costs a round trip on every checkout; where the
        # database can drop idle connections, engine.py pings only those.
        pool_pre_ping=False,
        echo=settings.database_echo,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "do_connect", _connect_or_unreachable)
    event.listen(engine.sync_engine, "handle_error", _unanswered_is_unreachable)
    return engine


def _connect_or_unreachable(
    dialect: Dialect,
    connection_record: ConnectionPoolEntry,
    cargs: tuple[Any, ...],
    cparams: dict[str, Any],
) -> Any:
    # Drivers raise a failed connect as Python's own OSError or TimeoutError, and
    # SQLAlchemy passes those on unwrapped. Named here, errors.py answers 503 for
    # them without taking every OSError or TimeoutError of the service's own
    # code (an HTTP call to another service, say) for a database outage.
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        metrics.count_database_error(exc)
        raise DatabaseUnreachable(
            f"cannot connect to the database: {type(exc).__name__}: {exc}"
        ) from exc


def _unanswered_is_unreachable(context: ExceptionContext) -> Exception | None:
    # A driver's own client-side limit (asyncpg's command_timeout) ends a
    # statement with Python's TimeoutError, unwrapped. The connection is then in
    # an unknown state and its server not answering: SQLAlchemy discards it
    # (and the pool's other connections, which share that server), and the
    # request gets 503 as in any outage, not a 500.
    if isinstance(context.original_exception, TimeoutError):
        context.is_disconnect = True
        return DatabaseUnreachable(
            "the database stopped answering: no reply within the statement timeout"
        )
    return None


def pool_capacity(settings: Settings) -> int:
    """How many connections the pool hands out at once: size plus overflow."""
    return settings.database_pool_size + settings.database_max_overflow
