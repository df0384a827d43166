"""Sessions: one engine per application, one AsyncSession per request or task."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.pool import QueuePool

from ..config import Settings
from . import metrics
from .engine import create_engine, for_reads
from .pool import pool_capacity

T = TypeVar("T")

logger = logging.getLogger(__name__)

# The Database whose read session the current request (task) opened: a failed
# read asks it whether to run again elsewhere (api/deps.ReadsRetriedElsewhere).
current_reader: ContextVar["Database | None"] = ContextVar(
    "current_reader", default=None
)


def create_sessionmaker(
    bind: AsyncEngine | AsyncConnection,
) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: reading an attribute after commit must not trigger
    # an implicit (sync) refresh, which fails under asyncio with MissingGreenlet.
    # autoflush=False: flushes happen where a repository asks for them, so a query
    # never writes as a side effect and write errors surface at a known place.
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


def runs_in_autocommit(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether the sessions run on an engine in autocommit (for_reads's way).

    Sessions bound to a connection (tests bind them to theirs) are taken to be
    in a transaction: committing them is right either way.
    """
    bind = sessionmaker.kw.get("bind")
    return (
        isinstance(bind, AsyncEngine)
        and bind.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for endpoints that only read (engine.py's for_reads says how)."""
    return create_sessionmaker(for_reads(engine))


async def open_pool(engine: AsyncEngine) -> None:
    """Open the pool's connections now, not in the first requests.

    Otherwise the first burst of requests after a deploy waits on pool_size
    connection handshakes (a p99 of over a second, measured in November 2026).
    A database that is down is not fatal here: the service starts,
    /health/ready answers 503, and connections open once the database is back.
    """
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return
    try:
        async with AsyncExitStack() as opened:
            for _ in range(pool.size()):
                await opened.enter_async_context(engine.connect())
    except Exception as exc:
        # Which database: the URL as SQLAlchemy prints it, the password masked.
        logger.warning(
            "could not open the connection pool to %s at startup: %s", engine.url, exc
        )


class SessionGate:
    """Admits at most `capacity` request sessions at a time, first come first served.

    SQLAlchemy's async pool is not fair when requests outnumber connections: a
    connection returned to the pool can go to a request that just arrived, and
    a waiter that loses that race queues again at the back. With 32 concurrent
    requests on a pool of 10 that left some requests waiting over a second (p99
    0.4-0.6 s, max 1.2 s, measured in November 2026). Waiting here instead, on an
    asyncio.Semaphore, which hands a freed slot to the longest waiter, kept the
    maximum at 0.11 s for the same throughput; the pool then never has waiters.
    """

    def __init__(self, capacity: int, timeout: float) -> None:
        self._slots = asyncio.Semaphore(capacity)
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> "SessionGate":
        """As many slots as the pool has connections, waiting as long as it would."""
        return cls(pool_capacity(settings), settings.database_pool_timeout)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Wait for a slot; after `timeout` seconds, fail as the pool would."""
        if self._slots.locked():
            await self._wait_for_a_slot()
        else:
            await self._slots.acquire()  # free: returns at once
            metrics.served_without_waiting()
        try:
            yield
        finally:
            self._slots.release()

    async def _wait_for_a_slot(self) -> None:
        with metrics.waiting_for_a_connection():
            try:
                async with asyncio.timeout(self._timeout):
                    await self._slots.acquire()
            except TimeoutError:
                metrics.POOL_TIMEOUTS.inc()
                raise PoolTimeoutError(
                    f"no database connection was free within {self._timeout} s"
                ) from None


class Database:
    """The application's engine, its sessionmakers and the gate in front of them.

    Created in the lifespan; request dependencies (api/deps.py) open every
    session through `session()` and `read_session()`.
    """

    def __init__(self, engine: AsyncEngine, gate: SessionGate) -> None:
        self.engine = engine
        self.gate = gate
        metrics.watch_engine(engine, "primary")
        self.sessionmaker = create_sessionmaker(engine)
        self.read_sessionmaker = create_read_sessionmaker(engine)
        # A write that is one statement needs no transaction of its own where
        # reads run in autocommit (engine.py's for_reads): the same sessions.
        self.single_statement_sessionmaker = self.read_sessionmaker

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(create_engine(settings), SessionGate.from_settings(settings))

    def engines(self) -> list[AsyncEngine]:
        """Every engine this Database connects with (to trace them, say)."""
        return [self.engine]

    def reader(self) -> async_sessionmaker[AsyncSession]:
        """Where reads go now. Writes, and the reads inside a write request
        (read-your-writes), use the primary: they take `session()`."""
        return self.read_sessionmaker

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed if the block succeeds, else rolled back."""
        async with self.gate.admit(), self.sessionmaker.begin() as session:
            yield session

    @asynccontextmanager
    async def single_statement_session(self) -> AsyncIterator[AsyncSession]:
        """A session for a request whose writes are one statement, on the primary.

        Where reads run in autocommit (PostgreSQL without PgBouncer, SQLite),
        the statement commits as it returns: no BEGIN and COMMIT to wait for,
        and a statement is atomic by itself. Elsewhere it is a transaction,
        committed when the block succeeds, as `session()`'s is. A second write
        here would not be atomic with the first: use `session()` for that.
        """
        sessionmaker = self.single_statement_sessionmaker
        # In autocommit nothing is begun: begin() would still go through
        # SQLAlchemy's commit (and, traced, a COMMIT span for a COMMIT never sent).
        opened: AbstractAsyncContextManager[AsyncSession] = (
            sessionmaker() if runs_in_autocommit(sessionmaker) else sessionmaker.begin()
        )
        async with self.gate.admit(), opened as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for work that only reads (queries/); it must not write."""
        current_reader.set(self)
        async with self.gate.admit(), self.reader()() as session:
            yield session

    def retry_read_on_primary(self, error: Exception) -> bool:
        """Whether a read that failed with `error` may run again elsewhere.

        One database: there is nowhere else to read.
        """
        return False

    async def start(self) -> None:
        await open_pool(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def run_in_own_sessions(
    sessionmaker: async_sessionmaker[AsyncSession],
    *jobs: Callable[[AsyncSession], Awaitable[T]],
) -> list[T]:
    """Run jobs concurrently, each with its own session and transaction.

    An AsyncSession must never be shared between tasks; this is the way to do
    database work concurrently. Each job commits when it returns. If one fails,
    its transaction rolls back, the TaskGroup cancels (and so rolls back) the jobs
    still running, and the failure is raised as an ExceptionGroup.
    """

    async def run(job: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with sessionmaker.begin() as session:
            return await job(session)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(run(job)) for job in jobs]
    return [task.result() for task in tasks]
