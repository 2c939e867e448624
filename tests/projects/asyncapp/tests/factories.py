"""Factories of the project's own tests: polyfactory, saving through the test's AsyncSession."""

import uuid

from polyfactory.factories.sqlalchemy_factory import SQLAlchemyFactory

from app.core.security.password import get_password_hash
from app.models import User

DEFAULT_PASSWORD = "geralt"


class UserFactory(SQLAlchemyFactory[User]):
    __check_model__ = False
    __set_relationships__ = False

    hashed_password = get_password_hash(DEFAULT_PASSWORD)

    @classmethod
    def user_id(cls) -> str:
        return str(uuid.uuid4())

    @classmethod
    def email(cls) -> str:
        return str(cls.__faker__.unique.email())
