"""The ASGI application: `uvicorn <package>.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .api import health, users
from .config import Settings, get_settings
from .db.session import Database
from .errors import register_error_handlers
from .logs import RequestContextMiddleware, configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The engine (and its pool) lives exactly as long as the application:
        # created at startup in the serving event loop, disposed at shutdown.
        database = Database.from_settings(settings)
        app.state.database = database
        try:
            yield
        finally:
            await database.dispose()

    app = FastAPI(title=settings.app_name, lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(RequestContextMiddleware)
    register_error_handlers(app)
    app.include_router(health.router)
    app.include_router(users.router, prefix="/api/v1")
    return app


app = create_app()
