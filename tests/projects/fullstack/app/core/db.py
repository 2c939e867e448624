"""The engine, made at import from the settings, and the data every environment starts with."""

from sqlmodel import Session, create_engine, select

from app import crud
from app.core.config import settings
from app.models import User, UserCreate

engine = create_engine(settings.SQLALCHEMY_DATABASE_URI)


def init_db(session: Session) -> None:
    """Create the first superuser unless it exists; the schema itself comes from Alembic."""
    existing = session.exec(
        select(User).where(User.email == settings.FIRST_SUPERUSER)
    ).first()
    if existing is None:
        crud.create_user(
            session=session,
            user_create=UserCreate(
                email=settings.FIRST_SUPERUSER,
                password=settings.FIRST_SUPERUSER_PASSWORD,
                is_superuser=True,
            ),
        )
