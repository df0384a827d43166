"""A generic typed async repository: queries live here, never in routes."""

import uuid
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import delete, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from ..db.base import Entity

ModelT = TypeVar("ModelT", bound=Entity)


class Repository(Generic[ModelT]):
    """CRUD and keyset pagination for one model.

    Repositories flush (so database errors surface here and can be mapped to
    domain errors) but never commit: the request or task scope owns the
    transaction.
    """

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, id: uuid.UUID, *, options: Sequence[ORMOption] = ()
    ) -> ModelT | None:
        return await self.session.get(self.model, id, options=options)

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[ModelT]:
        result = await self.session.scalars(
            select(self.model).where(self.model.id.in_(ids)).order_by(self.model.id)
        )
        return list(result)

    async def list_page(
        self, *, limit: int, after: uuid.UUID | None = None
    ) -> list[ModelT]:
        """A page in id order, starting after the id `after` (keyset pagination).

        Unlike OFFSET, the cost does not grow with the page number and rows
        inserted meanwhile neither repeat nor vanish from later pages.
        """
        query = select(self.model).order_by(self.model.id).limit(limit)
        if after is not None:
            query = query.where(self.model.id > after)
        return list(await self.session.scalars(query))

    async def create(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def update(self, obj: ModelT, changes: dict[str, object]) -> ModelT:
        columns = sa_inspect(self.model).columns.keys()
        for name, value in changes.items():
            if name not in columns:
                raise AttributeError(f"{self.model.__name__} has no column {name!r}")
            setattr(obj, name, value)
        await self.session.flush()
        return obj

    async def delete(self, id: uuid.UUID) -> bool:
        """Delete by id in one statement; False if there was no such row."""
        deleted = await self.session.scalar(
            delete(self.model).where(self.model.id == id).returning(self.model.id)
        )
        return deleted is not None
