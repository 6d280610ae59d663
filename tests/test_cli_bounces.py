"""``flask outreach bounces fetch`` and ``bounces import``: the bounce mailbox, read for real.

``fetch`` talks to a small IMAP4rev1 server in this process over TLS (a
certificate made for the run with the openssl command), through imaplib
exactly as it would talk to a real mailbox: log in, select the folder, search
the unseen messages, fetch each without marking it, then flag it seen. The
server knows only the handful of commands that takes; everything else it
answers BAD, so a change in how we talk to IMAP shows up here.
"""

from __future__ import annotations

import mailbox
import shutil
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.suppression import is_suppressed
from outreach.models import DeliveryReport, MessageKind, OutboxMessage
from tests.services.test_delivery_feedback import (
    GARBAGE,
    arf_report,
    exim_dsn,
    our_id,
    postfix_dsn,
)

LOOPBACK = "127.0.0.1"
USER, PASSWORD = "bounces", "imap secret"


@pytest.fixture
def sent_to(make_event, make_registration):
    def send(email: str) -> OutboxMessage:
        registration = make_registration(make_event(), email=email).registration
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
        ).one()

    return send


@pytest.fixture
def bounces(sent_to) -> list[bytes]:
    """A Postfix bounce, an Exim bounce, a complaint and an ordinary mail, about our messages."""
    return [
        postfix_dsn("amina@example.org", our_id(sent_to("amina@example.org"))),
        exim_dsn("bilal@example.org", our_id(sent_to("bilal@example.org"))),
        arf_report(our_id(sent_to("chen@example.org")), "chen@example.org"),
        GARBAGE["ordinary mail"],
    ]


def report_emails() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(DeliveryReport.email)))


def assert_fed_the_suppression_list() -> None:
    assert report_emails() == ["amina@example.org", "bilal@example.org", "chen@example.org"]
    assert is_suppressed("amina@example.org") and is_suppressed("bilal@example.org")
    assert is_suppressed("chen@example.org", MessageKind.CAMPAIGN)
    assert not is_suppressed("chen@example.org", MessageKind.REGISTRATION_CONFIRMED)


# -- import -------------------------------------------------------------------------------


def test_import_reads_an_mbox_file_and_twice_adds_nothing(runner, tmp_path, bounces):
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for raw in bounces:
        box.add(raw)
    box.close()

    result = runner.invoke(args=["outreach", "bounces", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Read 4 messages (1 not a bounce or complaint about our mail): "
        "3 reports recorded, 0 already known; 4 suppressions added."
    )
    assert_fed_the_suppression_list()

    again = runner.invoke(args=["outreach", "bounces", "import", str(path)])

    assert "0 reports recorded, 3 already known; 0 suppressions added." in again.output
    assert len(report_emails()) == 3


def test_import_reads_a_single_eml_file(runner, tmp_path, sent_to):
    path = tmp_path / "bounce.eml"
    path.write_bytes(postfix_dsn("dana@example.org", our_id(sent_to("dana@example.org"))))

    result = runner.invoke(args=["outreach", "bounces", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Read 1 message (0 not a bounce")
    assert is_suppressed("dana@example.org")


def test_import_reads_a_maildir(runner, tmp_path, bounces):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for raw in bounces:
        box.add(raw)

    result = runner.invoke(args=["outreach", "bounces", "import", str(tmp_path / "Maildir")])

    assert result.exit_code == 0, result.output
    assert_fed_the_suppression_list()


def test_import_of_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["outreach", "bounces", "import", str(tmp_path / "nothing.mbox")])

    assert result.exit_code == 2 and "does not exist" in result.output


# -- an IMAP server over TLS --------------------------------------------------------------


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    seen: bool = False


@dataclass
class ImapServer:
    """What the in-process IMAP server holds, and what clients did with it."""

    port: int = 0
    messages: list[StoredMessage] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def add(self, raw: bytes, *, seen: bool = False) -> None:
        self.messages.append(StoredMessage(len(self.messages) + 1, raw, seen))

    def unseen(self) -> list[int]:
        return [message.uid for message in self.messages if not message.seen]


class ImapHandler(socketserver.StreamRequestHandler):
    """One IMAP session: LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT; BAD for the rest."""

    server: _TlsImapServer

    def setup(self) -> None:
        self.request = self.server.context.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self) -> None:
        state = self.server.state
        self.send(b"* OK [CAPABILITY IMAP4rev1] test server ready")
        logged_in = False
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, arguments = arguments.partition(" ")
                command = "UID " + command.upper()
            state.commands.append(command)
            if command == "CAPABILITY":
                self.send(b"* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                if arguments != f'{USER} "{PASSWORD}"':
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials".encode())
                    continue
                logged_in = True
            elif command == "LOGOUT":
                self.send(b"* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed".encode())
                return
            elif not logged_in:
                self.send(f"{tag} BAD log in first".encode())
                continue
            elif command == "SELECT":
                if arguments != '"Bounces"':
                    self.send(f"{tag} NO no such mailbox".encode())
                    continue
                self.send(f"* {len(state.messages)} EXISTS".encode())
                self.send(b"* FLAGS (\\Seen)")
            elif command == "UID SEARCH" and arguments == "UNSEEN":
                self.send(b" ".join([b"* SEARCH", *(str(uid).encode() for uid in state.unseen())]))
            elif command == "UID FETCH" and arguments.endswith(" (BODY.PEEK[])"):
                message = state.messages[int(arguments.split()[0]) - 1]
                head = f"* {message.uid} FETCH (UID {message.uid} BODY[] {{{len(message.raw)}}}"
                self.send(head.encode())
                self.wfile.write(message.raw + b")\r\n")
            elif command == "UID STORE" and arguments.endswith(" +FLAGS (\\Seen)"):
                message = state.messages[int(arguments.split()[0]) - 1]
                message.seen = True
                self.send(f"* {message.uid} FETCH (UID {message.uid} FLAGS (\\Seen))".encode())
            else:
                self.send(f"{tag} BAD not understood".encode())
                continue
            self.send(f"{tag} OK {command} completed".encode())

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")


class _TlsImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context: ssl.SSLContext, state: ImapServer):
        super().__init__((LOOPBACK, 0), ImapHandler)
        self.context = context
        self.state = state


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Path:
    """A self-signed certificate for 127.0.0.1, made for this run; its key beside it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / "cert.pem"


@pytest.fixture
def imap(app, certificate, monkeypatch) -> Iterator[ImapServer]:
    """A running IMAP server over TLS; the app is configured to fetch from it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, certificate.with_name("key.pem"))
    state = ImapServer()
    server = _TlsImapServer(context, state)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The default context trusts what OpenSSL's SSL_CERT_FILE names: our certificate.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    app.config.update(
        BOUNCE_IMAP_HOST=f"{LOOPBACK}:{state.port}",
        BOUNCE_IMAP_USER=USER,
        BOUNCE_IMAP_PASSWORD=PASSWORD,
        BOUNCE_IMAP_FOLDER="Bounces",
    )
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_processes_the_unseen_messages_and_marks_them_seen(runner, imap, bounces):
    for raw in bounces:
        imap.add(raw)
    imap.add(postfix_dsn("old@example.org", None), seen=True)  # read before: left alone

    result = runner.invoke(args=["outreach", "bounces", "fetch"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Read 4 messages (1 not a bounce or complaint")
    assert_fed_the_suppression_list()
    assert imap.unseen() == []
    assert "UID FETCH" in imap.commands and imap.commands[-1] == "LOGOUT"

    again = runner.invoke(args=["outreach", "bounces", "fetch"])

    assert again.output.startswith("Read 0 messages")
    assert len(report_emails()) == 3


def test_fetch_with_a_wrong_password_says_so_and_changes_nothing(app, runner, imap, bounces):
    imap.add(bounces[0])
    app.config["BOUNCE_IMAP_PASSWORD"] = "guessed"

    result = runner.invoke(args=["outreach", "bounces", "fetch"])

    assert result.exit_code == 1 and "Invalid credentials" in result.output
    assert imap.unseen() == [1] and report_emails() == []


def test_fetch_refuses_a_server_whose_certificate_it_does_not_trust(
    runner, imap, bounces, monkeypatch, tmp_path
):
    imap.add(bounces[0])
    stranger = tmp_path / "empty.pem"
    stranger.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(stranger))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))

    result = runner.invoke(args=["outreach", "bounces", "fetch"])

    assert result.exit_code == 1 and "certificate verify failed" in result.output
    assert imap.unseen() == [1] and report_emails() == []


def test_fetch_without_a_configured_mailbox_says_what_to_set(app, runner):
    app.config["BOUNCE_IMAP_HOST"] = None

    result = runner.invoke(args=["outreach", "bounces", "fetch"])

    assert result.exit_code == 1 and "BOUNCE_IMAP_HOST" in result.output
