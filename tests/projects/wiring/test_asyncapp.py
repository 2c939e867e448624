"""What the team writes next: register through the app's route, log in, read the current user."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from tests.factories import UserFactory

from .harness.app import Client, body
from .harness.tokens import TokenFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_user_registers_logs_in_and_reads_their_profile(
    client: Client, db_session: AsyncSession
) -> None:
    account = {"email": "ada@example.com", "password": "analytical-engine"}

    registered = await client.post("/auth/register", json=account)
    logged_in = await client.post(
        "/auth/access-token",
        data={"username": account["email"], "password": account["password"]},
    )
    token = body(logged_in)["access_token"]
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert registered.status_code == 201, registered.text
    assert logged_in.status_code == 200, logged_in.text
    assert me.status_code == 200, me.text
    stored = await db_session.scalar(select(User).where(User.email == account["email"]))
    assert stored is not None
    assert body(me) == {"user_id": stored.user_id, "email": account["email"]}


async def test_the_update_time_trigger_of_the_migrations_fires(
    client: Client, db_session: AsyncSession, make_token: TokenFactory
) -> None:
    user = User(email="grace@example.com", hashed_password="not-a-real-hash")
    db_session.add(user)
    await db_session.flush()
    headers = {"Authorization": f"Bearer {make_token(user.user_id)}"}

    reset = await client.post("/users/reset-password", json={"password": "cobol"}, headers=headers)

    assert reset.status_code == 204, reset.text
    times = (
        await db_session.execute(
            select(User.create_time, User.update_time).where(User.user_id == user.user_id)
        )
    ).one()
    assert times.update_time > times.create_time


async def test_the_projects_polyfactory_factory_saves_through_db_session(
    client: Client, db_session: AsyncSession, make_token: TokenFactory
) -> None:
    UserFactory.__async_session__ = db_session
    user = await UserFactory.create_async()

    me = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {make_token(user.user_id)}"}
    )

    assert me.status_code == 200, me.text
    assert body(me)["email"] == user.email


async def test_a_host_the_app_does_not_trust_is_refused(client: Client) -> None:
    response = await client.get("/openapi.json", headers={"Host": "attacker.example"})

    assert response.status_code == 400
    assert response.text == "Invalid host header"
