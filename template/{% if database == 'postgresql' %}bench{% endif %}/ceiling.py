"""The ceiling: a bare ASGI app running the service's queries on a raw asyncpg pool.

Same endpoints, same queries, same pool size and JSON shapes as this service's
example API; no framework, no ORM, no validation. bench/run.py serves it
(`uvicorn ceiling:app` from bench/, CEILING_DSN and CEILING_POOL set).
"""

import json
import os
import uuid
from typing import Any
from urllib.parse import parse_qs

import asyncpg

USER_COLUMNS = "id, email, full_name, created_at, updated_at"
POOL: dict[str, asyncpg.Pool] = {}
NOT_FOUND = b'{"detail": "not found"}'


def _json(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


async def _send(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body"):
            return body


async def _user_with_orders(pool: asyncpg.Pool, user_id: uuid.UUID) -> Any:
    async with pool.acquire() as connection:
        user = await connection.fetchrow(
            f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id
        )
        if user is None:
            return None
        orders = await connection.fetch(
            "SELECT id, user_id, total, created_at FROM orders"
            " WHERE user_id = $1 ORDER BY id",
            user_id,
        )
    return dict(user) | {"orders": [dict(order) for order in orders]}


async def _page(pool: asyncpg.Pool, limit: int) -> Any:
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            f"SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT $1", limit + 1
        )
    return {"items": [dict(row) for row in rows[:limit]], "next": None}


async def _create(pool: asyncpg.Pool, body: bytes) -> Any:
    data = json.loads(body)
    user_id = uuid.uuid4()
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            "INSERT INTO users (id, email, full_name) VALUES ($1, $2, $3)"
            " RETURNING created_at, updated_at",
            user_id,
            data["email"].lower(),
            data["full_name"],
        )
    assert row is not None  # INSERT ... RETURNING returns the row it inserted
    return {
        "id": user_id,
        "email": data["email"].lower(),
        "full_name": data["full_name"],
    } | dict(row)


async def _rename(pool: asyncpg.Pool, user_id: uuid.UUID, body: bytes) -> Any:
    data = json.loads(body)
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            "UPDATE users SET full_name = $2, updated_at = now() WHERE id = $1"
            f" RETURNING {USER_COLUMNS}",
            user_id,
            data["full_name"],
        )
    return dict(row) if row is not None else None


async def _delete(pool: asyncpg.Pool, user_id: uuid.UUID) -> bool:
    async with pool.acquire() as connection:
        deleted = await connection.fetchval(
            "DELETE FROM users WHERE id = $1 RETURNING id", user_id
        )
    return deleted is not None


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                POOL["pool"] = await asyncpg.create_pool(
                    os.environ["CEILING_DSN"],
                    min_size=int(os.environ.get("CEILING_POOL", "5")),
                    max_size=int(os.environ.get("CEILING_POOL", "5")),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await POOL["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    pool = POOL["pool"]
    path, method = scope["path"], scope["method"]
    if path == "/api/v1/users" and method == "GET":
        limit = int(parse_qs(scope["query_string"].decode()).get("limit", ["50"])[0])
        await _send(send, 200, _json(await _page(pool, limit)))
    elif path == "/api/v1/users" and method == "POST":
        await _send(send, 201, _json(await _create(pool, await _read_body(receive))))
    elif path.startswith("/api/v1/users/") and method == "GET":
        user = await _user_with_orders(pool, uuid.UUID(path.rsplit("/", 1)[1]))
        await _send(send, 200 if user else 404, _json(user or {"detail": "not found"}))
    elif path.startswith("/api/v1/users/") and method == "PATCH":
        user_id, body = uuid.UUID(path.rsplit("/", 1)[1]), await _read_body(receive)
        user = await _rename(pool, user_id, body)
        await _send(send, 200 if user else 404, _json(user or {"detail": "not found"}))
    elif path.startswith("/api/v1/users/") and method == "DELETE":
        deleted = await _delete(pool, uuid.UUID(path.rsplit("/", 1)[1]))
        await _send(send, 204 if deleted else 404, b"" if deleted else NOT_FOUND)
    else:
        await _send(send, 404, NOT_FOUND)
