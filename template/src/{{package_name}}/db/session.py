"""Sessions: one engine per application, one AsyncSession per request or task."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TypeVar

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.pool import QueuePool

from ..config import Settings
from .engine import create_engine

T = TypeVar("T")

logger = logging.getLogger(__name__)


def create_sessionmaker(
    bind: AsyncEngine | AsyncConnection,
) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: reading an attribute after commit must not trigger
    # an implicit (sync) refresh, which fails under asyncio with MissingGreenlet.
    # autoflush=False: flushes happen where a repository asks for them, so a query
    # never writes as a side effect and write errors surface at a known place.
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


class Database:
    """The application's engine and sessionmaker, created in the lifespan."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)
        # Same pool; connections run each statement in its own transaction.
        self.read_sessionmaker = create_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(create_engine(settings))

    async def open_pool(self) -> None:
        """Open the pool's connections at startup, not in the first requests.

        Otherwise the first burst of requests after a deploy waits on pool_size
        connection handshakes (a p99 of over a second in bench/run.py). A
        database that is down is not fatal here: the service starts, /health/ready
        answers 503, and connections open once the database is back.
        """
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return
        try:
            async with AsyncExitStack() as opened:
                for _ in range(pool.size()):
                    await opened.enter_async_context(self.engine.connect())
        except Exception as exc:
            logger.warning("could not open the connection pool at startup: %s", exc)

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
