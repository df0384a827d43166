from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Entity

if TYPE_CHECKING:
    from .order import Order


class User(Entity):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(String(200))

    # lazy="raise": an accidental lazy load fails loudly instead of issuing a
    # hidden query per row (N+1) or a sync IO call under asyncio.
    # passive_deletes: ON DELETE CASCADE removes the orders; the ORM must not load them.
    orders: Mapped[list["Order"]] = relationship(
        back_populates="user",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Order.id",
    )
