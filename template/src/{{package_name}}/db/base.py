"""Declarative base, constraint naming convention and the mixins every table uses."""

import os
import threading
import time
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep Alembic autogenerate stable and let
# migrations drop constraints by name on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
    }


class _UUID7Generator:
    """Time-ordered UUIDs (RFC 9562 version 7), as Python 3.14's uuid.uuid7 makes them.

    New rows land at the right edge of the primary-key index instead of on random
    pages, and id order is creation order: to the millisecond across processes,
    exactly within one (a 42-bit counter orders ids made in the same millisecond).
    """

    def __init__(self) -> None:
        self.last_ms = -1
        self.counter = 0
        self.lock = threading.Lock()

    def __call__(self) -> uuid.UUID:
        with self.lock:
            return uuid.UUID(int=self._next())

    def _next(self) -> int:
        unix_ms = time.time_ns() // 1_000_000
        if unix_ms > self.last_ms:
            self.counter = int.from_bytes(os.urandom(6)) & 0x1FF_FFFF_FFFF
        else:  # same millisecond, or the clock went back: keep counting up
            unix_ms = self.last_ms
            self.counter += 1
            if self.counter > 0x3FF_FFFF_FFFF:
                unix_ms += 1
                self.counter = int.from_bytes(os.urandom(6)) & 0x1FF_FFFF_FFFF
        self.last_ms = unix_ms
        value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
        value |= 0x7 << 76  # version 7
        value |= (self.counter >> 30) << 64
        value |= 0x2 << 62  # RFC 9562 variant
        value |= (self.counter & 0x3FFF_FFFF) << 32
        return value | int.from_bytes(os.urandom(4))


uuid7 = _UUID7Generator()


class UUIDPrimaryKeyMixin:
    # sort_order: the key comes first and the timestamps last in CREATE TABLE.
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid7, sort_order=-1
    )


class TimestampMixin:
    # Server-side defaults: the database clock is the one clock all instances share.
    created_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), sort_order=1
    )
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), sort_order=1
    )
    # Fetch server-generated values with RETURNING at flush time, so reading
    # created_at/updated_at never needs a lazy (and, under asyncio, failing) refresh.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}


class Entity(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """What every aggregate table has: a UUID primary key and timestamps."""

    __abstract__ = True
