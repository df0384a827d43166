"""Every model is imported here so Base.metadata is complete for Alembic."""

from .order import Order
from .user import User

__all__ = ["Order", "User"]
