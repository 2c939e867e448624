"""Fixtures of the project's own tests: a session rolled back after each test, a client on the
app that uses it, and the factories bound to it."""

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import deps
from app.core import database_session
from app.main import app as fastapi_app
from tests.factories import UserFactory


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    async with database_session._ASYNC_ENGINE.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        ) as test_session:
            yield test_session
        await transaction.rollback()


@pytest.fixture
async def client(session: AsyncSession) -> AsyncIterator[AsyncClient]:
    fastapi_app.dependency_overrides[deps.get_session] = lambda: session
    transport = ASGITransport(app=fastapi_app)
    async with AsyncClient(
        transport=transport, base_url="http://localhost"
    ) as test_client:
        yield test_client
    fastapi_app.dependency_overrides.clear()


@pytest.fixture
def user_factory(session: AsyncSession) -> type[UserFactory]:
    UserFactory.__async_session__ = session
    return UserFactory
