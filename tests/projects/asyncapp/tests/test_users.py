from fastapi import status
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security.jwt import create_jwt_token
from app.models import User
from tests.factories import UserFactory


async def test_read_current_user(
    client: AsyncClient, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()
    token = create_jwt_token(user.user_id).access_token

    response = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {"user_id": user.user_id, "email": user.email}


async def test_delete_current_user(
    client: AsyncClient, session: AsyncSession, user_factory: type[UserFactory]
) -> None:
    user = await user_factory.create_async()
    token = create_jwt_token(user.user_id).access_token

    response = await client.delete(
        "/users/me", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert (
        await session.scalar(select(User).where(User.user_id == user.user_id)) is None
    )
