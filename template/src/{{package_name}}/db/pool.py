"""The connection pool: its size, timeouts and recycling, from the settings.

They are set here and nowhere else; engine.py adds what this database's driver
needs on each connection.
"""

from typing import Any

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..config import Settings


def create_pooled_engine(
    settings: Settings, url: URL | None, connect_args: dict[str, Any]
) -> AsyncEngine:
    """An engine for `url` (by default the configured one) with the pool."""
    return create_async_engine(
        url or settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        # SQLAlchemy's pre-ping costs a round trip on every checkout; where the
        # database can drop idle connections, engine.py pings only those.
        pool_pre_ping=False,
        echo=settings.database_echo,
        connect_args=connect_args,
    )


def pool_capacity(settings: Settings) -> int:
    """How many connections the pool hands out at once: size plus overflow."""
    return settings.database_pool_size + settings.database_max_overflow
