"""Domain errors and their HTTP mapping, in one place."""

from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


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


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
