"""Where composed messages go: an SMTP server, or the development mailbox.

A transport opens a session for a batch (one SMTP connection) and sends
messages through it. Failures come back as DeliveryError, which says
whether trying again later can help, whether the address bounced hard, and
whether the session is still usable.
"""

from __future__ import annotations

import os
import smtplib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from flask import Flask
from flask_mail import Connection, Mail

from outreach.mail.compose import ComposedMessage

# Mailbox-level refusals of one recipient: the address itself is bad.
HARD_BOUNCE_CODES = {550, 551, 553}


class DeliveryError(Exception):
    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        hard_bounce: bool = False,
        session_lost: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.hard_bounce = hard_bounce
        self.session_lost = session_lost


class Sender(Protocol):
    def send(self, message: ComposedMessage) -> None: ...


class Transport(Protocol):
    def session(self) -> Iterator[Sender]: ...


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


def classify(error: Exception) -> DeliveryError:
    """Turn what smtplib raised into a decision: retry later, or give up now."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return DeliveryError(
            _reply_text(code, reply),
            permanent=code >= 500,
            hard_bounce=code in HARD_BOUNCE_CODES,
            # smtplib closes the connection when RCPT is answered 421.
            session_lost=code == 421,
        )
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        # 421 means the server is closing the connection.
        return DeliveryError(
            _reply_text(code, error.smtp_error),
            permanent=code >= 500,
            session_lost=code == 421,
        )
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        return DeliveryError(f"connection lost: {error}", session_lost=True)
    return DeliveryError(f"{type(error).__name__}: {error}")


class _TimedConnection(Connection):
    """Flask-Mail's connection, with a socket timeout so a silent server cannot hang us."""

    def __init__(self, mail: Mail, timeout: float):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        mail = self.mail
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = smtp_class(mail.server, mail.port, timeout=self.timeout)
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


class _SmtpSender:
    def __init__(self, host: smtplib.SMTP):
        self.host = host

    def send(self, message: ComposedMessage) -> None:
        try:
            self.host.sendmail(message.envelope_from, [message.recipient], message.raw)
        except (smtplib.SMTPException, OSError) as error:
            raise classify(error) from error


class SmtpTransport:
    """SMTP through Flask-Mail's settings (server, port, STARTTLS/SSL, login)."""

    def __init__(self, mail: Mail, *, timeout: float = 30):
        self.mail = mail
        self.timeout = timeout

    @contextmanager
    def session(self) -> Iterator[Sender]:
        connection = _TimedConnection(self.mail, self.timeout)
        try:
            connection.host = connection.configure_host()
        except (smtplib.SMTPException, OSError) as error:
            raise classify(error) from error
        try:
            yield _SmtpSender(connection.host)
        finally:
            # The server may already have hung up; that is no reason to fail the batch.
            with suppress(smtplib.SMTPException, OSError):
                connection.host.quit()


class _MailboxSender:
    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: ComposedMessage) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        name = f"{stamp}-{message.message_id.strip('<>').split('@')[0]}.eml"
        # Write then rename, so the mailbox page never shows half a message.
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(message.raw)
        os.replace(temporary, self.directory / name)


class MailboxTransport:
    """The development mailbox: one .eml file per message, nothing leaves the machine."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @contextmanager
    def session(self) -> Iterator[Sender]:
        self.directory.mkdir(parents=True, exist_ok=True)
        yield _MailboxSender(self.directory)


def transport_for(app: Flask) -> SmtpTransport | MailboxTransport:
    """SMTP when MAIL_SERVER is set, the development mailbox otherwise."""
    if app.config.get("MAIL_SERVER"):
        return SmtpTransport(app.extensions["mail"], timeout=app.config["MAIL_SMTP_TIMEOUT"])
    return MailboxTransport(app.config["MAILBOX_DIR"])
