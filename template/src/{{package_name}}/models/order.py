import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Entity

if TYPE_CHECKING:
    from .user import User


class Order(Entity):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("total >= 0", name="total_non_negative"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Minor units (cents): integer money never rounds.
    total: Mapped[int]

    user: Mapped["User"] = relationship(back_populates="orders", lazy="raise")
