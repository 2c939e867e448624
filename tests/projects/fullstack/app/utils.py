"""E-mail: the messages the app sends, through the SMTP server its settings name."""

import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr

import jwt

from app.core import security
from app.core.config import settings


def send_email(*, email_to: str, subject: str, text: str) -> None:
    assert settings.emails_enabled, "no provided configuration for email variables"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr(
        (settings.EMAILS_FROM_NAME or "", str(settings.EMAILS_FROM_EMAIL))
    )
    message["To"] = email_to
    message.set_content(text)
    host, port = str(settings.SMTP_HOST), settings.SMTP_PORT
    smtp = (
        smtplib.SMTP_SSL(host, port) if settings.SMTP_SSL else smtplib.SMTP(host, port)
    )
    with smtp:
        if settings.SMTP_TLS:
            smtp.starttls()
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD or "")
        smtp.send_message(message)


def generate_password_reset_token(email: str) -> str:
    now = datetime.now(timezone.utc)
    expires = now + timedelta(hours=settings.EMAIL_RESET_TOKEN_EXPIRE_HOURS)
    claims = {"exp": expires.timestamp(), "nbf": now, "sub": email}
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=security.ALGORITHM)


def send_reset_password_email(*, email_to: str, token: str) -> None:
    subject = f"{settings.PROJECT_NAME} - Password recovery for user {email_to}"
    link = f"{settings.FRONTEND_HOST}/reset-password?token={token}"
    text = (
        f"Someone asked to reset the password of {email_to}. Follow {link} to reset it."
    )
    send_email(email_to=email_to, subject=subject, text=text)
