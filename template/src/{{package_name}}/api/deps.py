"""Request-scoped dependencies, as Annotated aliases so route signatures stay short."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db.session import Database
from ..repositories.orders import OrdersRepository
from ..repositories.users import UsersRepository


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_sessionmaker(
    database: Annotated[Database, Depends(get_database)],
) -> async_sessionmaker[AsyncSession]:
    return database.sessionmaker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(sessionmaker: SessionmakerDep) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: commit on success, else roll back."""
    async with sessionmaker.begin() as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response
# is sent. With the default scope it would run after the response, so a failed
# COMMIT could follow a 2xx the client already received.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_users_repository(session: SessionDep) -> UsersRepository:
    return UsersRepository(session)


def get_orders_repository(session: SessionDep) -> OrdersRepository:
    return OrdersRepository(session)


UsersDep = Annotated[UsersRepository, Depends(get_users_repository)]
OrdersDep = Annotated[OrdersRepository, Depends(get_orders_repository)]
