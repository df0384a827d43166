from sqlalchemy.exc import IntegrityError

from ..errors import NotFoundError
from ..models import Order
from .base import Repository, violated_constraint

USER_FOREIGN_KEY = "fk_orders_user_id_users"


class OrdersRepository(Repository[Order]):
    model = Order

    async def create(self, obj: Order) -> Order:
        # No SELECT of the user first: the foreign key answers "does the user
        # exist?" in the same round trip, and without a race against a DELETE.
        try:
            return await super().create(obj)
        except IntegrityError as exc:
            if violated_constraint(exc) == USER_FOREIGN_KEY:
                raise NotFoundError(f"user {obj.user_id} not found") from exc
            raise
