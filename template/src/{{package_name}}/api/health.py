import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from .deps import DatabaseDep, SettingsDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Liveness: the process answers (no database access)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: the database answers SELECT 1",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ok"}}}},
        503: {
            "description": "The database is unreachable or too slow",
            "content": {"application/json": {"example": {"status": "unavailable"}}},
        },
    },
)
async def ready(database: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    # Not through the gate: probes come often and must not take a slot that
    # requests wait for; SELECT 1 needs no transaction.
    try:
        async with asyncio.timeout(settings.health_check_timeout):
            async with database.reader()() as session:
                await session.execute(text("SELECT 1"))
    except Exception as exc:
        # The reason stays out of the response: it can name hosts and users.
        logger.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
