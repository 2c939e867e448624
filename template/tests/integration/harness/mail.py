# Managed by it-template: local changes may conflict on copier update.
"""E-mail capture: a real SMTP server per xdist worker, and the messages it received per test.

The code under test sends through its own SMTP client, over a socket, to `smtp_server` (an
aiosmtpd server on 127.0.0.1): nothing is mocked, so the envelope, the headers and the MIME
structure are what a real relay would get. `mailbox` is what arrived during the test, parsed
into `email.message.EmailMessage` objects; nothing is ever delivered anywhere.
"""

from __future__ import annotations

import email.policy
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING

import pytest

from .process import free_port

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["Mail", "SmtpServer", "mailbox", "smtp_server"]


@dataclass(frozen=True)
class Mail:
    """One message as received: the SMTP envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The Subject header, unfolded. A subject too long for its first line is folded from
        the start (`Subject:` then a continuation line), and the parser keeps that space."""
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        """The plain-text body (the text/plain part of a multipart message)."""
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(part.get_content())


@dataclass
class SmtpServer:
    """The worker's SMTP server: where to send, and what it has received since it was cleared."""

    host: str
    port: int
    received: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook for each message: keep it, parsed, and accept it."""
        raw = envelope.original_content or b""
        message = BytesParser(EmailMessage, policy=email.policy.default).parsebytes(raw)
        self.received.append(
            Mail(str(envelope.mail_from), [str(to) for to in envelope.rcpt_tos], message)
        )
        return "250 Message accepted for delivery"


@functools.cache
def address() -> tuple[str, int]:
    """Where this process's SMTP server listens: chosen once, so that app_env's {smtp.host} and
    {smtp.port} (set before the app is imported) name the server `smtp_server` starts later."""
    return "127.0.0.1", free_port()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """The worker's SMTP server on 127.0.0.1 and a free port, stopped when the worker ends."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(*address())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> list[Mail]:
    """The messages the SMTP server receives during this test, in the order they arrived.

    The list fills as the code sends (the server answers only once it holds the message): read
    it after the code under test has returned.
    """
    smtp_server.received.clear()  # what an earlier test sent, even one without a mailbox
    return smtp_server.received
