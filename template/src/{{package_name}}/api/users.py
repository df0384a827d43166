import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import Field, PlainValidator, WithJsonSchema

from ..errors import ErrorBody, NotFoundError
from ..models import Order
from ..queries import users as queries
from ..schemas.orders import OrderCreate, OrderRead
from ..schemas.users import (
    MAX_BULK_USERS,
    BulkInsertResult,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
    UserWithOrders,
    decode_cursor,
    encode_cursor,
)
from .deps import (
    OrdersDep,
    ReadSessionDep,
    ReadsRetriedElsewhere,
    SingleStatementUsersDep,
    UsersDep,
)

router = APIRouter(
    prefix="/users",
    tags=["users"],
    route_class=ReadsRetriedElsewhere,
    responses={
        503: {"model": ErrorBody, "description": "No database connection was free"}
    },
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No user with this id"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The email is already taken"}
}

Cursor = Annotated[
    uuid.UUID,
    PlainValidator(decode_cursor),
    # 16 bytes in unpadded base64url: the schema says exactly what is accepted.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{22}$",
            "description": "`next` of the previous page",
        }
    ),
]
BulkUsers = Annotated[
    list[UserCreate], Body(), Field(min_length=1, max_length=MAX_BULK_USERS)
]


@router.post("", status_code=201, summary="Create a user", responses=CONFLICT)
async def create_user(body: UserCreate, users: SingleStatementUsersDep) -> UserRead:
    return await users.insert(vars(body))


@router.post(
    "/bulk",
    status_code=201,
    summary="Create many users at once, all or nothing",
    responses=CONFLICT,
)
async def create_users_bulk(body: BulkUsers, users: UsersDep) -> BulkInsertResult:
    # vars(): a validated model's fields, as they are (model_dump copies them).
    inserted = await users.bulk_create(vars(user) for user in body)
    return BulkInsertResult(inserted=inserted)


@router.get("", summary="List users, oldest first, a page at a time")
async def list_users(
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[Cursor | None, Query()] = None,
) -> UserPage:
    # One extra row tells whether another page exists, without a COUNT.
    rows = await queries.users_page(session, limit=limit + 1, after=after)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(rows) > limit else None
    return UserPage(items=page, next=next_cursor)


# {user_id:uuid}: a path segment that is no UUID matches no route (404), so
# /users/bulk is only ever the bulk endpoint and PATCH on it is a 405, not a
# user id that fails to parse.
@router.get(
    "/{user_id:uuid}",
    summary="Get a user with their orders",
    responses=NOT_FOUND,
)
async def get_user(user_id: uuid.UUID, session: ReadSessionDep) -> UserWithOrders:
    found = await queries.user_with_orders(session, user_id)
    if found is None:
        raise NotFoundError(f"user {user_id} not found")
    return found


@router.patch(
    "/{user_id:uuid}",
    summary="Change a user's email or name",
    responses=NOT_FOUND | CONFLICT,
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, users: SingleStatementUsersDep
) -> UserRead:
    updated = await users.update_by_id(user_id, body.model_dump(exclude_unset=True))
    if updated is None:
        raise NotFoundError(f"user {user_id} not found")
    return updated


@router.delete(
    "/{user_id:uuid}",
    status_code=204,
    summary="Delete a user and their orders",
    responses=NOT_FOUND,
)
async def delete_user(user_id: uuid.UUID, users: SingleStatementUsersDep) -> None:
    if not await users.delete(user_id):
        raise NotFoundError(f"user {user_id} not found")


@router.post(
    "/{user_id:uuid}/orders",
    status_code=201,
    response_model=OrderRead,
    summary="Add an order to a user",
    responses=NOT_FOUND,
)
async def create_order(
    user_id: uuid.UUID, body: OrderCreate, orders: OrdersDep
) -> Order:
    return await orders.create(Order(user_id=user_id, total=body.total))


@router.get(
    "/{user_id:uuid}/orders",
    summary="List a user's orders, oldest first",
    responses=NOT_FOUND,
)
async def list_orders(user_id: uuid.UUID, session: ReadSessionDep) -> list[OrderRead]:
    return await queries.orders_of_user(session, user_id)
