import time

from fastapi import status
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RefreshToken, User
from tests.factories import DEFAULT_PASSWORD, UserFactory


async def test_register_new_user(client: AsyncClient, session: AsyncSession) -> None:
    response = await client.post(
        "/auth/register", json={"email": "test@email.com", "password": "testtesttest"}
    )

    assert response.status_code == status.HTTP_201_CREATED
    user = await session.scalar(select(User).where(User.email == "test@email.com"))
    assert user is not None
    assert response.json() == {"user_id": user.user_id, "email": "test@email.com"}


async def test_register_existing_email_is_refused(
    client: AsyncClient, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()

    response = await client.post(
        "/auth/register", json={"email": user.email, "password": "testtesttest"}
    )

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"detail": "Cannot use this email address"}


async def test_login_access_token(
    client: AsyncClient, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()

    response = await client.post(
        "/auth/access-token",
        data={"username": user.email, "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["token_type"] == "Bearer"


async def test_login_with_wrong_password_or_unknown_email_is_refused(
    client: AsyncClient, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()

    wrong_password = await client.post(
        "/auth/access-token", data={"username": user.email, "password": "nope"}
    )
    unknown_email = await client.post(
        "/auth/access-token",
        data={"username": "nobody@email.com", "password": DEFAULT_PASSWORD},
    )

    assert wrong_password.status_code == status.HTTP_400_BAD_REQUEST
    assert unknown_email.status_code == status.HTTP_400_BAD_REQUEST


async def test_refresh_token_gives_a_new_pair_once(
    client: AsyncClient, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()
    login = await client.post(
        "/auth/access-token",
        data={"username": user.email, "password": DEFAULT_PASSWORD},
    )
    refresh_token = login.json()["refresh_token"]

    first = await client.post(
        "/auth/refresh-token", json={"refresh_token": refresh_token}
    )
    second = await client.post(
        "/auth/refresh-token", json={"refresh_token": refresh_token}
    )

    assert first.status_code == status.HTTP_200_OK
    assert first.json()["refresh_token"] != refresh_token
    assert second.status_code == status.HTTP_400_BAD_REQUEST
    assert second.json() == {"detail": "Refresh token already used"}


async def test_refresh_token_unknown_or_expired_is_refused(
    client: AsyncClient, session: AsyncSession, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()
    session.add(
        RefreshToken(
            user_id=user.user_id, refresh_token="blaxx", exp=int(time.time()) - 1
        )
    )
    await session.commit()

    expired = await client.post("/auth/refresh-token", json={"refresh_token": "blaxx"})
    unknown = await client.post("/auth/refresh-token", json={"refresh_token": "nope"})

    assert expired.status_code == status.HTTP_400_BAD_REQUEST
    assert expired.json() == {"detail": "Refresh token expired"}
    assert unknown.status_code == status.HTTP_404_NOT_FOUND
