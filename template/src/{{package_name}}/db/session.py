"""Sessions: one engine per application, one AsyncSession per request or task."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from ..config import Settings
from .engine import create_engine

T = TypeVar("T")


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
