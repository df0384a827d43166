from collections.abc import Iterable, Iterator, Mapping
from itertools import islice

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ..db.failures import integrity_violation
from ..errors import ConflictError
from ..models import User
from .base import Repository

EMAIL_CONSTRAINT = "ix_users_email"


class UsersRepository(Repository[User]):
    model = User
    # Rows per INSERT statement in bulk_create: 1,000 rows x 3 columns stays far
    # below PostgreSQL's 32,767 bind-parameter limit per statement.
    bulk_chunk_size = 1_000

    async def create(self, obj: User) -> User:
        email = obj.email  # read now: a failed flush expires the object
        try:
            return await super().create(obj)
        except IntegrityError as exc:
            _raise_if_email_taken(exc, f"a user with email {email!r} already exists")
            raise

    async def update(self, obj: User, changes: dict[str, object]) -> User:
        email = changes.get("email", obj.email)
        try:
            return await super().update(obj, changes)
        except IntegrityError as exc:
            _raise_if_email_taken(exc, f"a user with email {email!r} already exists")
            raise

    async def bulk_create(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert many users with multi-row INSERTs, all or nothing.

        Returns the number of rows inserted. A duplicate email (in the database or
        in `rows`) raises ConflictError; the caller's transaction then rolls back.
        """
        inserted = 0
        for chunk in _chunks(rows, self.bulk_chunk_size):
            # RETURNING makes SQLAlchemy batch the chunk into multi-row
            # INSERT ... VALUES (...), (...) statements ("insertmanyvalues").
            try:
                result = await self.session.scalars(
                    insert(User).returning(User.id), chunk
                )
            except IntegrityError as exc:
                _raise_if_email_taken(
                    exc,
                    "an email already exists or appears twice in the request; "
                    "no user was inserted",
                )
                raise
            inserted += len(result.all())
        return inserted


def _raise_if_email_taken(exc: IntegrityError, message: str) -> None:
    violation = integrity_violation(exc)
    if violation is not None and violation.constraint == EMAIL_CONSTRAINT:
        raise ConflictError(message) from exc


def _chunks(
    rows: Iterable[Mapping[str, object]], size: int
) -> Iterator[list[dict[str, object]]]:
    iterator = iter(rows)
    while chunk := [dict(row) for row in islice(iterator, size)]:
        yield chunk
