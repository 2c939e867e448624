# factory-boy's declarations carry no type hints.
# mypy: allow-untyped-calls
from __future__ import annotations

from factory.declarations import Sequence
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import Customer, Invoice

from .factories import BaseFactory
from .harness.auth import AsUser
from .harness.tokens import TokenFactory


class CustomerFactory(BaseFactory):
    class Meta:
        model = Customer

    email = Sequence(lambda n: f"customer{n}@example.test")


def test_a_minted_token_signs_a_customer_in(client: TestClient, make_token: TokenFactory) -> None:
    customer = CustomerFactory.create()

    response = client.get("/me", headers={"Authorization": f"Bearer {make_token(customer.id)}"})

    assert response.status_code == 200
    assert response.json() == {"email": customer.email}


def test_a_token_of_an_unknown_customer_is_refused(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get("/me", headers={"Authorization": f"Bearer {make_token(2_000_000)}"})

    assert response.status_code == 401


def test_an_invoice_is_written_through_the_test_session(
    as_user: AsUser, db_session: Session
) -> None:
    customer = CustomerFactory.create()

    response = as_user(customer).post(
        "/invoices", json=[{"description": "Hosting", "amount_cents": 1_250}]
    )

    assert response.status_code == 201
    assert response.json()["total_cents"] == 1_250
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 1
