"""The read side of the users API: GET responses built from Core rows.

A GET response is serialised as soon as it is loaded, so ORM entities buy it
nothing and cost an identity map, per-instance state and relationship loaders.
Selecting just the columns of each response, with statements built once at
import (so their cache keys are computed once), doubled the throughput of
GET /users/{id} in bench/run.py. Writes, and code that needs entities, use the
repositories.
"""

import uuid

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFoundError
from ..models import Order, User
from ..schemas.orders import OrderRead
from ..schemas.users import UserRead, UserWithOrders

users = User.__table__
orders = Order.__table__

USERS = select(*(users.c[name] for name in UserRead.model_fields))
USER_BY_ID = USERS.where(users.c.id == bindparam("user_id"))
USER_EXISTS = select(exists().where(users.c.id == bindparam("user_id")))
# Keyset pagination in id order (UUIDv7: creation order), as Repository.list_page.
FIRST_PAGE = USERS.order_by(users.c.id).limit(bindparam("limit"))
NEXT_PAGE = FIRST_PAGE.where(users.c.id > bindparam("after"))
ORDERS_OF_USER = (
    select(*(orders.c[name] for name in OrderRead.model_fields))
    .where(orders.c.user_id == bindparam("user_id"))
    .order_by(orders.c.id)
)


async def user_with_orders(
    session: AsyncSession, user_id: uuid.UUID
) -> UserWithOrders | None:
    user = (await session.execute(USER_BY_ID, {"user_id": user_id})).one_or_none()
    if user is None:
        return None
    rows = await session.execute(ORDERS_OF_USER, {"user_id": user_id})
    return UserWithOrders(
        **user._mapping, orders=[OrderRead.model_validate(row) for row in rows]
    )


async def users_page(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None = None
) -> list[UserRead]:
    if after is None:
        rows = await session.execute(FIRST_PAGE, {"limit": limit})
    else:
        rows = await session.execute(NEXT_PAGE, {"limit": limit, "after": after})
    return [UserRead.model_validate(row) for row in rows]


async def orders_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[OrderRead]:
    """The user's orders, oldest first; NotFoundError if the user does not exist."""
    rows = await session.execute(ORDERS_OF_USER, {"user_id": user_id})
    found = [OrderRead.model_validate(row) for row in rows]
    if not found and not await session.scalar(USER_EXISTS, {"user_id": user_id}):
        raise NotFoundError(f"user {user_id} not found")
    return found
