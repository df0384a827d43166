"""Request-scoped dependencies, as Annotated aliases so route signatures stay short.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in a
worker thread, and those thread hops cost a third of a request's time here.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db import Database
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


async def get_read_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """A session for endpoints that only read (queries/); it must not write.

    It comes from Database.reader(); db/engine.py's for_reads says how it reads.
    """
    async with database.read_session() as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response
# is sent. With the default scope it would run after the response, so a failed
# COMMIT could follow a 2xx the client already received.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_users_repository(session: SessionDep) -> UsersRepository:
    return UsersRepository(session)


async def get_orders_repository(session: SessionDep) -> OrdersRepository:
    return OrdersRepository(session)


UsersDep = Annotated[UsersRepository, Depends(get_users_repository)]
OrdersDep = Annotated[OrdersRepository, Depends(get_orders_repository)]
