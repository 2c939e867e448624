"""What the team writes next: sign up, log in through the app's own route, read the profile."""

from __future__ import annotations

from sqlmodel import Session, select

from app.core.config import settings
from app.models import Category, User

from .harness.app import Client, body
from .harness.mail import Mail
from .harness.tokens import TokenFactory


def test_a_user_signs_up_logs_in_and_reads_their_profile(
    client: Client, db_session: Session
) -> None:
    account = {"email": "ada@example.com", "password": "analytical-engine"}

    signed_up = client.post("/api/v1/users/signup", json={**account, "full_name": "Ada"})
    logged_in = client.post(
        "/api/v1/login/access-token",
        data={"username": account["email"], "password": account["password"]},
    )
    token = body(logged_in)["access_token"]
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert signed_up.status_code == 200, signed_up.text
    assert logged_in.status_code == 200, logged_in.text
    assert me.status_code == 200, me.text
    assert body(me)["email"] == "ada@example.com"
    stored = db_session.exec(select(User).where(User.email == "ada@example.com")).one()
    assert stored.full_name == "Ada"


def test_the_parent_conftest_made_its_superuser_in_the_test_database(db_session: Session) -> None:
    superuser = db_session.exec(select(User).where(User.email == settings.FIRST_SUPERUSER)).one()

    assert superuser.is_superuser


def test_a_minted_token_is_the_superusers_own(
    client: Client, db_session: Session, make_token: TokenFactory
) -> None:
    superuser = db_session.exec(select(User).where(User.email == settings.FIRST_SUPERUSER)).one()

    me = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {make_token(str(superuser.id))}"}
    )

    assert me.status_code == 200, me.text
    assert body(me)["email"] == settings.FIRST_SUPERUSER


def test_the_rows_the_migrations_seeded_are_there(db_session: Session) -> None:
    names = db_session.exec(select(Category.name)).all()

    assert names == ["general"]


def test_password_recovery_mails_the_user_a_reset_link(
    client: Client, db_session: Session, mailbox: list[Mail]
) -> None:
    # app_env points the settings' SMTP_HOST and SMTP_PORT at this worker's smtp_server.
    signed_up = client.post(
        "/api/v1/users/signup",
        json={"email": "grace@example.com", "password": "compiler-1952", "full_name": "Grace"},
    )

    recovered = client.post("/api/v1/password-recovery/grace@example.com")

    assert signed_up.status_code == 200, signed_up.text
    assert recovered.status_code == 200, recovered.text
    assert [mail.recipients for mail in mailbox] == [["grace@example.com"]]
    subject = "Full Stack FastAPI Project - Password recovery for user grace@example.com"
    assert mailbox[0].subject == subject
    assert "/reset-password?token=" in mailbox[0].text
