import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# The orders.total column is a 32-bit integer; reject what it cannot hold with a 422
# instead of letting the database fail the request.
MAX_TOTAL = 2**31 - 1


def whole_number(value: object) -> object:
    """An integer as JSON Schema means it: 17 or 17.0, never true or "17".

    Pydantic's lax mode takes true and "17"; strict mode refuses 17.0, which the
    schema's `integer` allows.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: WholeNumber = Field(
        ge=0, le=MAX_TOTAL, description="Amount in minor units (cents)"
    )


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    total: int
    created_at: datetime
