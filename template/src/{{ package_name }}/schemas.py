"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .models import OrderStatus


class UserCreate(BaseModel):
    """Body of a sign-up."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    """A user as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    created_at: datetime


class Profile(BaseModel):
    """The signed-in user's profile, with a summary of their orders."""

    id: int
    email: str
    name: str
    member_since: datetime
    paid_orders: int


class OrderItemIn(BaseModel):
    """One line of a new order."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price_cents: int = Field(ge=0)


class OrderCreate(BaseModel):
    """Body of a new order."""

    items: list[OrderItemIn] = Field(min_length=1)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class OrderItemOut(BaseModel):
    """One line of an order as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    """An order as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    currency: str
    total_cents: int
    payment_reference: str | None
    created_at: datetime
    items: list[OrderItemOut]
