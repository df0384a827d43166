"""Request-scoped dependencies, as Annotated aliases so route signatures stay short.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in a
worker thread, and those thread hops cost a third of a request's time here.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db import Database
from ..db.session import current_reader
from ..repositories.orders import OrdersRepository
from ..repositories.users import UsersRepository


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    """The Database the lifespan opened; the one seam tests replace."""
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: commit on success, else roll back."""
    async with database.session() as session:
        yield session


async def get_single_statement_session(
    database: DatabaseDep,
) -> AsyncIterator[AsyncSession]:
    """A session for a request that writes with one statement (Database's
    single_statement_session says what that saves, and what it must not do)."""
    async with database.single_statement_session() as session:
        yield session


async def get_read_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """A session for endpoints that only read (queries/); it must not write.

    It comes from Database.reader(); db/engine.py's for_reads says how it reads.
    """
    async with database.read_session() as session:
        yield session


# FastAPI keeps the exit stack of an endpoint's scope="function" dependencies
# under this scope key, around the whole route handler.
FUNCTION_STACK = "fastapi_function_astack"


class ReadsRetriedElsewhere(APIRoute):
    """A GET whose reads failed where another copy of the data answers (a dead
    replica, when there is a primary) runs once more, there; the client never
    sees the failure. GETs do not write, so running one twice is safe."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_retry(request: Request) -> Response:
            if request.method != "GET" or FUNCTION_STACK not in request.scope:
                return await handle(request)
            # Not an earlier request's reader: ASGI servers run requests in
            # tasks of their own, test clients may not.
            current_reader.set(None)
            try:
                return await attempt(handle, request)
            except Exception as error:
                reader = current_reader.get()
                if reader is None or not reader.retry_read_on_primary(error):
                    raise
            return await handle(request)

        return handle_with_retry


async def attempt(
    handle: Callable[[Request], Coroutine[Any, Any, Response]], request: Request
) -> Response:
    """Run `handle` with dependencies of its own, closed when it returns or fails.

    Inside FastAPI's stack, a failed attempt would keep its session and its
    SessionGate slot until the retry ended: with every slot so held, retries
    wait for each other forever.
    """
    outer = request.scope[FUNCTION_STACK]
    try:
        async with AsyncExitStack() as own:
            request.scope[FUNCTION_STACK] = own
            return await handle(request)
    finally:
        request.scope[FUNCTION_STACK] = outer


# scope="function": the commit runs when the endpoint returns, before the response
# is sent. With the default scope it would run after the response, so a failed
# COMMIT could follow a 2xx the client already received.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SingleStatementSessionDep = Annotated[
    AsyncSession, Depends(get_single_statement_session, scope="function")
]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_users_repository(session: SessionDep) -> UsersRepository:
    return UsersRepository(session)


async def get_single_statement_users_repository(
    session: SingleStatementSessionDep,
) -> UsersRepository:
    """For endpoints whose one write is a single statement: UsersRepository's
    insert, update_by_id and delete (each one INSERT, UPDATE or DELETE)."""
    return UsersRepository(session)


async def get_orders_repository(session: SessionDep) -> OrdersRepository:
    return OrdersRepository(session)


UsersDep = Annotated[UsersRepository, Depends(get_users_repository)]
SingleStatementUsersDep = Annotated[
    UsersRepository, Depends(get_single_statement_users_repository)
]
OrdersDep = Annotated[OrdersRepository, Depends(get_orders_repository)]
