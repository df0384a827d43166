from collections.abc import Iterable, Mapping

from sqlalchemy.exc import IntegrityError

from ..db.base import new_ids
from ..db.bulk import insert_all
from ..db.failures import integrity_violation
from ..errors import ConflictError
from ..models import User
from .base import Repository

EMAIL_CONSTRAINT = "ix_users_email"
BULK_COLUMNS = ("id", "email", "full_name")
# The table as a Table (a mapped class's __table__ is typed as any FROM clause).
USERS_TABLE = User.metadata.tables[User.__tablename__]


class UsersRepository(Repository[User]):
    model = User

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
        """Insert many users at once, all or nothing (db/bulk.py says how).

        Returns the number of rows inserted. A duplicate email (in the database or
        in `rows`) raises ConflictError; the caller's transaction then rolls back.
        """
        rows = list(rows)
        ids = new_ids(len(rows))
        records = [
            (id_, row["email"], row["full_name"])
            for id_, row in zip(ids, rows, strict=True)
        ]
        try:
            return await insert_all(self.session, USERS_TABLE, BULK_COLUMNS, records)
        except IntegrityError as exc:
            _raise_if_email_taken(
                exc,
                "an email already exists or appears twice in the request; "
                "no user was inserted",
            )
            raise


def _raise_if_email_taken(exc: IntegrityError, message: str) -> None:
    violation = integrity_violation(exc)
    if violation is not None and violation.constraint == EMAIL_CONSTRAINT:
        raise ConflictError(message) from exc
