import base64
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from .emails import Email
from .orders import OrderRead

# No NUL: PostgreSQL cannot store it in text (it answered 500), and a name
# never holds one; a 422 names the field on every database.
FullName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]

MAX_BULK_USERS = 10_000


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: FullName


class UserUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    # SkipJsonSchema: null is refused (below), so the schema does not offer it.
    email: Email | SkipJsonSchema[None] = None
    full_name: FullName | SkipJsonSchema[None] = None

    @field_validator("email", "full_name")
    @classmethod
    def reject_null(cls, value: str | None) -> str:
        # Only runs for values the client sent: omitting a field is fine, null is not.
        if value is None:
            raise ValueError("may be omitted, but not null")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    created_at: datetime
    updated_at: datetime


class UserWithOrders(UserRead):
    orders: list[OrderRead]


class UserPage(BaseModel):
    items: list[UserRead]
    next: str | None = Field(
        description="Cursor for the next page; null on the last page"
    )


class BulkInsertResult(BaseModel):
    inserted: int


def encode_cursor(last_id: uuid.UUID) -> str:
    """An opaque cursor, so the pagination key can change without breaking clients."""
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except ValueError:  # binascii.Error is one too
        raise ValueError("invalid cursor") from None
