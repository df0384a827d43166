"""Domain errors and their HTTP mapping, in one place."""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from .db.failures import integrity_violation, is_query_cancelled, is_unavailable
from .db.pool import DatabaseUnreachable

logger = logging.getLogger(__name__)

# Integrity violations that no repository turned into a domain error: the client
# still gets a 4xx that names no table, constraint or value.
INTEGRITY_ERRORS = {
    "not_null": (422, "a required value is missing"),
    "foreign_key": (
        409,
        "the request refers to a record that does not exist or is in use",
    ),
    "unique": (409, "the request conflicts with an existing record"),
    "check": (422, "a value is out of the allowed range"),
}


class ErrorBody(BaseModel):
    """The JSON body of every error this service raises itself."""

    detail: str


class ServiceError(Exception):
    """An error the client can act on; `detail` is safe to show them."""

    status_code: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    status_code = 409


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    # Every connection stayed busy for pool_timeout seconds: the service is
    # overloaded, not broken, so tell the client to come back.
    return JSONResponse(
        {"detail": "the service is busy; retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def _unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": "the database is unavailable; retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Outages and timeouts are the client's to retry; the rest is our bug.

    No message from the driver reaches the client: it can hold SQL and values.
    """
    assert isinstance(exc, DBAPIError)
    if is_query_cancelled(exc):
        return JSONResponse(
            {"detail": "the database took too long; the query was cancelled"},
            status_code=504,
        )
    violation = integrity_violation(exc)
    if violation is not None:
        status_code, detail = INTEGRITY_ERRORS[violation.kind]
        return JSONResponse({"detail": detail}, status_code=status_code)
    if is_unavailable(exc):
        logger.warning("database unavailable: %s", type(exc.orig).__name__)
        return _unavailable()
    logger.error("database error", exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


async def _cannot_connect(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", exc)
    return _unavailable()


METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with `Allow` naming every method the path has (RFC 9110, 15.5.6).

    Starlette answers from the first route whose path matched, so PUT /users
    would say `Allow: GET` although POST /users exists too. Asking the router
    which methods would match keeps included routers' internals out of it.
    """
    assert isinstance(exc, HTTPException)
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return JSONResponse(
        {"detail": exc.detail}, status_code=405, headers={"Allow": ", ".join(allowed)}
    )


UNREADABLE_BODY = {
    "description": "The body could not be decoded (it is not UTF-8)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}


def document_unreadable_bodies(app: FastAPI) -> None:
    """Say in the OpenAPI schema that every operation taking a body may answer 400.

    FastAPI sends that 400 itself, for a body it cannot decode, and documents
    only its 422; clients (and the schema fuzz test) would meet an undocumented
    status on every endpoint, the ones you add included.
    """
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build_schema()  # built once, then cached by FastAPI
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault("400", UNREADABLE_BODY)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def register_error_handlers(app: FastAPI) -> None:
    document_unreadable_bodies(app)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(DatabaseUnreachable, _cannot_connect)
