from sqlalchemy.exc import IntegrityError

from ..db.failures import integrity_violation
from ..errors import NotFoundError
from ..models import Order
from .base import Repository

USER_FOREIGN_KEY = "fk_orders_user_id_users"


class OrdersRepository(Repository[Order]):
    model = Order

    async def create(self, obj: Order) -> Order:
        # No SELECT of the user first: the foreign key answers "does the user
        # exist?" in the same round trip, and without a race against a DELETE.
        try:
            return await super().create(obj)
        except IntegrityError as exc:
            violation = integrity_violation(exc)
            # A constraint of None: the database does not name foreign keys
            # (SQLite), and user_id is the only one orders has.
            if (
                violation is not None
                and violation.kind == "foreign_key"
                and violation.constraint in (USER_FOREIGN_KEY, None)
            ):
                raise NotFoundError(f"user {obj.user_id} not found") from exc
            raise
