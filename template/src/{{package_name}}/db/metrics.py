"""Prometheus metrics of the database layer: the pools, the gate in front of
them, database errors by kind. metrics.py serves them with the rest."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

from .failures import integrity_violation, is_query_cancelled, is_unavailable

# Seconds a request may wait for a connection: from none at all to pool_timeout.
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# With several workers, their gauges are summed: the service's pool is all of
# theirs. "live": a worker that stopped no longer counts (metrics.worker_stopped).
PER_SERVICE: Final = "livesum"

POOL_SIZE = Gauge(
    "db_pool_size",
    "Connections each pool keeps open (pool_size), summed over workers",
    ["pool"],
    multiprocess_mode=PER_SERVICE,
)
POOL_MAX_OVERFLOW = Gauge(
    "db_pool_max_overflow",
    "Connections each pool may open beyond its size (max_overflow)",
    ["pool"],
    multiprocess_mode=PER_SERVICE,
)
POOL_CHECKED_OUT = Gauge(
    "db_pool_checked_out",
    "Connections in use: checked out of the pool",
    ["pool"],
    multiprocess_mode=PER_SERVICE,
)
POOL_OVERFLOW_IN_USE = Gauge(
    "db_pool_overflow_in_use",
    "Connections in use beyond pool_size (opened for the load, closed after it)",
    ["pool"],
    multiprocess_mode=PER_SERVICE,
)
SESSION_WAITERS = Gauge(
    "db_session_waiters",
    "Requests waiting for a database connection (every one was in use)",
    multiprocess_mode=PER_SERVICE,
)
SESSION_WAIT_SECONDS = Histogram(
    "db_session_wait_seconds",
    "Seconds a request waited for a database connection",
    buckets=WAIT_BUCKETS,
)
POOL_TIMEOUTS = Counter(
    "db_pool_timeouts",
    "Requests that got no connection within pool_timeout (answered 503)",
)
DATABASE_ERRORS = Counter(
    "db_errors",
    "Database errors by kind: unavailable, query_timeout, unique, foreign_key,"
    " check, not_null, other",
    ["kind"],
)


def error_kind(error: BaseException) -> str:
    """The kind of database error, as db/failures tells them apart."""
    # pool.DatabaseUnreachable, and a driver's own timeouts, are OSErrors.
    if isinstance(error, OSError):
        return "unavailable"
    if not isinstance(error, DBAPIError):
        return "other"
    if is_query_cancelled(error):
        return "query_timeout"
    violation = integrity_violation(error)
    if violation is not None:
        return violation.kind
    return "unavailable" if is_unavailable(error) else "other"


def count_database_error(error: BaseException) -> None:
    DATABASE_ERRORS.labels(error_kind(error)).inc()


def _count_statement_error(context: ExceptionContext) -> None:
    # SQLAlchemy wraps a driver's error in a DBAPIError; errors of its own (a
    # statement it could not compile, say) are bugs, not database errors.
    error = context.sqlalchemy_exception or context.original_exception
    if context.is_disconnect:
        DATABASE_ERRORS.labels("unavailable").inc()
    elif isinstance(error, DBAPIError | OSError):
        count_database_error(error)


def watch_engine(engine: AsyncEngine, pool_name: str) -> None:
    """Keep the pool gauges of `engine` current and count its errors.

    Pool events, not a look at the pool at scrape time: the scrape may reach
    another worker, which knows only its own pool.
    """
    sync_engine = engine.sync_engine
    if event.contains(sync_engine, "handle_error", _count_statement_error):
        return
    event.listen(sync_engine, "handle_error", _count_statement_error)
    pool = sync_engine.pool
    if not isinstance(pool, QueuePool):
        return  # a NullPool (one-off work) has nothing to watch
    size = pool.size()
    POOL_SIZE.labels(pool_name).set(size)
    # QueuePool has no public accessor for its max_overflow.
    POOL_MAX_OVERFLOW.labels(pool_name).set(pool._max_overflow)
    checked_out = POOL_CHECKED_OUT.labels(pool_name)
    overflow_in_use = POOL_OVERFLOW_IN_USE.labels(pool_name)

    # Counted here, up and down, not read from the pool: the pool also counts
    # connections still being opened, whose checkout has not happened yet.
    # And each engine adds its own, so that engines sharing a label (an app's,
    # a script's, a test's) add up instead of overwriting each other.
    in_use = 0

    def on_checkout(
        dbapi_connection: Any,
        record: ConnectionPoolEntry,
        proxy: PoolProxiedConnection,
    ) -> None:
        nonlocal in_use
        in_use += 1
        checked_out.inc()
        if in_use > size:
            overflow_in_use.inc()

    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        nonlocal in_use
        if in_use > size:
            overflow_in_use.dec()
        in_use -= 1
        checked_out.dec()

    event.listen(sync_engine, "checkout", on_checkout)
    event.listen(sync_engine, "checkin", on_checkin)


@contextmanager
def waiting_for_a_connection() -> Iterator[None]:
    """Count the caller among the waiters while it waits, and time its wait."""
    SESSION_WAITERS.inc()
    started = time.perf_counter()
    try:
        yield
    finally:
        SESSION_WAITERS.dec()
        SESSION_WAIT_SECONDS.observe(time.perf_counter() - started)


def served_without_waiting() -> None:
    SESSION_WAIT_SECONDS.observe(0)
