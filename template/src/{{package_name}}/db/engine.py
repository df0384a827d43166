"""Build the AsyncEngine: the pool arguments live here and nowhere else."""

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..config import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        pool_pre_ping=settings.database_pool_pre_ping,
        echo=settings.database_echo,
        connect_args={
            "timeout": settings.database_connect_timeout,
            "server_settings": {
                "application_name": settings.database_application_name,
                "statement_timeout": str(
                    round(settings.database_statement_timeout * 1000)
                ),
            },
        },
    )
