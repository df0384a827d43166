import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# The orders.total column is a 32-bit integer; reject what it cannot hold with a 422
# instead of letting the database fail the request.
MAX_TOTAL = 2**31 - 1


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # strict: JSON true is a boolean, not the integer 1 the schema asks for.
    total: int = Field(
        strict=True, ge=0, le=MAX_TOTAL, description="Amount in minor units (cents)"
    )


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    total: int
    created_at: datetime
