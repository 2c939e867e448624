"""The billing API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from billing.auth import get_current_user
from billing.db import get_session
from billing.models import Customer, Invoice, InvoiceLine


class LineIn(BaseModel):
    description: str
    amount_cents: int


class InvoiceOut(BaseModel):
    id: int
    customer_id: int
    total_cents: int


def create_app() -> FastAPI:
    """Build the API."""
    app = FastAPI(title="Billing")

    @app.get("/me")
    def me(customer: Annotated[Customer, Depends(get_current_user)]) -> dict[str, str]:
        return {"email": customer.email}

    @app.post("/invoices", status_code=201)
    def create_invoice(
        lines: list[LineIn],
        customer: Annotated[Customer, Depends(get_current_user)],
        session: Annotated[Session, Depends(get_session)],
    ) -> InvoiceOut:
        invoice = Invoice(customer=customer)
        invoice.lines = [InvoiceLine(**line.model_dump()) for line in lines]
        session.add(invoice)
        session.commit()
        return InvoiceOut(id=invoice.id, customer_id=customer.id, total_cents=invoice.total_cents)

    @app.get("/invoices/{invoice_id}")
    def read_invoice(
        invoice_id: int,
        customer: Annotated[Customer, Depends(get_current_user)],
        session: Annotated[Session, Depends(get_session)],
    ) -> InvoiceOut:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None or invoice.customer_id != customer.id:
            raise HTTPException(404, "No such invoice")
        return InvoiceOut(id=invoice.id, customer_id=customer.id, total_cents=invoice.total_cents)

    return app
