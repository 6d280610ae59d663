"""/dev/mailbox: the development mail client for the .eml files the mailbox transport writes.

The emails are built with the standard library's ``email`` package — one
invitation laid out as the mail issue asks (text, HTML and a
``text/calendar; method=REQUEST`` alternative plus an ``.ics`` attachment),
one plain text — and written into a temporary MAILBOX_DIR.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from config import TestingConfig
from outreach import create_app
from outreach.dev.mailbox import mailbox_path
from outreach.extensions import db
from tests.web.html import page

INVITE = "invite.eml"
PLAIN = "plain.eml"
MANAGE_LINK = "http://outreach.test/r/tok-123"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outreach//test//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:event-7@outreach.test\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20270301T093000Z\r\nDTSTART:20270314T170000Z\r\nSUMMARY:Sprachcafé\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
HOSTILE_HTML = (
    '<p>Hallo <b>Ada</b>, <a href="' + MANAGE_LINK + '">Ihre Anmeldung</a></p>'
    "<script>alert('from the mail')</script>"
    '<img src="https://tracker.example.com/pixel.gif" alt="">'
)


def invitation() -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address("Verein Brückenwerk", addr_spec="outreach@example.org")
    message["To"] = Address("Ada Lovelace", addr_spec="ada@example.org")
    message["Subject"] = "Anmeldung bestätigt: Sprachcafé"
    message["Date"] = format_datetime(datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain="outreach.test")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"Hallo Ada,\n\nSie sind angemeldet.\nIhr Link: {MANAGE_LINK}.\n")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    message.add_alternative(ICS, subtype="calendar", params={"method": "REQUEST"})
    message.add_attachment(
        ICS.encode(), maintype="application", subtype="ics", filename="sprachcafe.ics"
    )
    return message


def plain() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "outreach@example.org"
    message["To"] = "bob@example.org"
    message["Subject"] = "Your link"
    message["Date"] = format_datetime(datetime(2027, 2, 28, 8, 0, tzinfo=UTC))
    message.set_content("Here is your link.\n")
    return message


def store(folder: Path, name: str, message: EmailMessage, *, mtime: float) -> Path:
    path = folder / name
    path.write_bytes(message.as_bytes())
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def mailbox(tmp_path) -> Path:
    folder = tmp_path / "mailbox"
    folder.mkdir()
    return folder


@pytest.fixture
def filled(mailbox) -> Path:
    """The mailbox with the plain email (older) and the invitation (newer)."""
    store(mailbox, PLAIN, plain(), mtime=1_800_000_000)
    store(mailbox, INVITE, invitation(), mtime=1_800_000_100)
    (mailbox / "half-written.tmp").write_bytes(b"From: x\r\n")  # a delivery in progress
    return mailbox


@pytest.fixture
def dev_client(database_url, app, mailbox):
    dev_app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        DEV_TOOLS=True,
        MAILBOX_DIR=str(mailbox),
    )
    yield dev_app.test_client()
    with dev_app.app_context():
        db.engine.dispose()


def get(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, url
    return response


# The list


def test_mailbox_lists_emails_newest_first_with_decoded_headers(dev_client, filled):
    html = page(get(dev_client, "/dev/mailbox"))

    table = html.one("table")
    assert table.one("caption").text == "2 emails"
    rows = [[cell.text for cell in row.all("td")] for row in table.one("tbody").all("tr")]
    assert [row[3] for row in rows] == ["Anmeldung bestätigt: Sprachcafé", "Your link"]
    invite, plain_row = rows
    assert invite[0] == "2027-03-01 09:30:00 UTC"
    assert invite[1] == "Verein Brückenwerk <outreach@example.org>"
    assert invite[2] == "Ada Lovelace <ada@example.org>"
    assert invite[4] == "METHOD:REQUEST"
    assert invite[5].endswith(("kB", "Bytes"))
    assert plain_row[4] == "none"
    links = [a.attrs["href"] for a in table.all("a")]
    assert links == [f"/dev/mailbox/{INVITE}", f"/dev/mailbox/{PLAIN}"]


def test_subjects_are_decoded_from_their_encoded_form(filled):
    raw = (filled / INVITE).read_bytes()

    assert b"=?utf-8?" in raw  # so the list above really decoded it
    assert "Sprachcafé".encode() not in raw.split(b"\n\n")[0]


def test_an_empty_mailbox_says_how_mail_gets_there(dev_client):
    html = page(get(dev_client, "/dev/mailbox"))

    assert "No emails yet — register for an event; the worker delivers here" in html.text
    assert not html.all("table")


def test_a_mailbox_folder_that_does_not_exist_yet_is_empty(database_url, app, tmp_path):
    dev_app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        DEV_TOOLS=True,
        MAILBOX_DIR=str(tmp_path / "not-yet"),
    )

    html = page(get(dev_app.test_client(), "/dev/mailbox"))

    assert "No emails yet" in html.text
    with dev_app.app_context():
        db.engine.dispose()


# One email


def test_an_email_shows_its_headers_text_links_and_parts(dev_client, filled):
    response = get(dev_client, f"/dev/mailbox/{INVITE}")
    html = page(response)

    assert html.one("h1").text == "Anmeldung bestätigt: Sprachcafé"
    assert "Sie sind angemeldet." in html.one("pre", class_="mail-text").text
    assert MANAGE_LINK in [a.attrs["href"] for a in html.one("ul", class_="mail-links").all("a")]
    headers = {
        row.one("th").text: row.one("td").text
        for table in html.all("table")
        if table.one("caption").text.startswith("All ")
        for row in table.one("tbody").all("tr")
    }
    assert headers["From"] == "Verein Brückenwerk <outreach@example.org>"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert "METHOD:REQUEST" in html.text
    types = [cell.text for cell in html.all("code") if "/" in cell.text]
    assert types[:5] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert "application/ics" in types
    downloads = {a.text: a.attrs["href"] for a in html.one("ul", class_="dev-actions").all("a")}
    assert downloads["Download the .eml"] == f"/dev/mailbox/{INVITE}/raw"
    assert downloads["Download the invite (.ics)"] == f"/dev/mailbox/{INVITE}/invite.ics"


def test_the_html_part_is_framed_in_a_sandbox_not_injected(dev_client, filled):
    response = get(dev_client, f"/dev/mailbox/{INVITE}")
    html = page(response)

    frame = html.one("iframe")
    assert frame.attrs["sandbox"] == ""  # present and allowing nothing
    assert frame.attrs["src"] == f"/dev/mailbox/{INVITE}/html"
    assert frame.attrs["title"]
    body = response.get_data(as_text=True)
    assert "alert(" not in body
    assert "tracker.example.com" not in body
    assert "<b>Ada</b>" not in body


def test_the_html_part_is_served_under_a_strict_content_security_policy(dev_client, filled):
    response = get(dev_client, f"/dev/mailbox/{INVITE}/html")

    assert response.mimetype == "text/html"
    assert "<b>Ada</b>" in response.get_data(as_text=True)
    policy = {
        directive.strip().split(" ", 1)[0]: directive.strip()
        for directive in response.headers["Content-Security-Policy"].split(";")
    }
    assert policy["default-src"] == "default-src 'none'"
    assert policy["style-src"] == "style-src 'unsafe-inline'"
    assert policy["img-src"] == "img-src data:"
    assert policy["sandbox"] == "sandbox"  # no allow-scripts, no allow-same-origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_raw_email_and_its_invite_can_be_downloaded(dev_client, filled):
    raw = get(dev_client, f"/dev/mailbox/{INVITE}/raw")
    invite = get(dev_client, f"/dev/mailbox/{INVITE}/invite.ics")

    assert raw.data == (filled / INVITE).read_bytes()
    assert raw.mimetype == "message/rfc822"
    assert raw.headers["Content-Disposition"].startswith("attachment")
    assert invite.mimetype == "text/calendar"
    assert invite.data.decode() == ICS
    assert invite.headers["Content-Disposition"] == "attachment; filename=sprachcafe.ics"


def test_a_plain_email_has_no_html_part_and_no_invite(dev_client, filled):
    html = page(get(dev_client, f"/dev/mailbox/{PLAIN}"))

    assert "Here is your link." in html.one("pre", class_="mail-text").text
    assert not html.all("iframe")
    assert "This email has no HTML part." in html.text
    get(dev_client, f"/dev/mailbox/{PLAIN}/html", 404)
    get(dev_client, f"/dev/mailbox/{PLAIN}/invite.ics", 404)


@pytest.mark.parametrize("url", ["/dev/mailbox", f"/dev/mailbox/{INVITE}", f"/dev/mailbox/{PLAIN}"])
def test_the_pages_are_built_like_the_others(dev_client, filled, url):
    html = page(get(dev_client, url))

    assert len(html.all("h1")) == 1
    assert html.one("title").text.endswith("– Outreach")
    assert not html.duplicate_ids()
    assert html.one("nav", class_="dev-nav").attrs["aria-label"]
    for table in html.all("table"):
        assert table.one("caption").text
        assert all(th.attrs.get("scope") in {"col", "row"} for th in table.all("th"))
    assert html.one("main").one("div", lang="en")  # English content in a German-default site


def test_an_invite_sent_only_as_an_alternative_downloads_with_crlf_lines(dev_client, mailbox):
    message = plain()
    message.add_alternative(
        ICS.replace("METHOD:REQUEST", "METHOD:CANCEL"),
        subtype="calendar",
        params={"method": "CANCEL"},
    )
    store(mailbox, "cancel.eml", message, mtime=1_800_000_000)

    listed = page(get(dev_client, "/dev/mailbox")).one("tbody").one("tr").all("td")
    invite = get(dev_client, "/dev/mailbox/cancel.eml/invite.ics")

    assert listed[4].text == "METHOD:CANCEL"
    assert invite.data.decode() == ICS.replace("METHOD:REQUEST", "METHOD:CANCEL")
    assert invite.headers["Content-Disposition"] == "attachment; filename=invite.ics"


def test_what_the_worker_delivers_shows_up_in_the_mailbox(
    database_url, dev_client, mailbox, make_event, make_registration
):
    """The page reads the files the real mailbox transport writes, not only hand-made ones."""
    pytest.importorskip("outreach.mail.compose", reason="composing is not written yet")
    make_registration(make_event(title="Sprachcafé"), email="ada@example.org", language="en")
    dev_app = dev_client.application

    # The CLI uses the current app if there is one (the ``app`` fixture's): make it this one.
    with dev_app.app_context():
        result = dev_app.test_cli_runner().invoke(args=["outreach", "worker", "--once"])

    assert result.exit_code == 0, result.output
    [row] = page(get(dev_client, "/dev/mailbox")).one("tbody").all("tr")
    cells = [cell.text for cell in row.all("td")]
    assert "ada@example.org" in cells[2]
    assert cells[4] == "METHOD:REQUEST"
    name = row.one("a").attrs["href"].rsplit("/", 1)[1]
    email = page(get(dev_client, f"/dev/mailbox/{name}"))
    assert any("/r/" in a.attrs["href"] for a in email.one("ul", class_="mail-links").all("a"))
    assert b"BEGIN:VCALENDAR" in get(dev_client, f"/dev/mailbox/{name}/invite.ics").data
    get(dev_client, f"/dev/mailbox/{name}/html")


# Names that are not plain .eml files in the mailbox


@pytest.fixture
def traps(filled, tmp_path) -> Path:
    """A secret beside the mailbox, and things inside it that are not plain .eml files."""
    secret = tmp_path / "secret.eml"
    store(tmp_path, "secret.eml", plain(), mtime=1_800_000_200)
    (filled / "link.eml").symlink_to(secret)
    (filled / "folder.eml").mkdir()
    store(filled, ".hidden.eml", plain(), mtime=1_800_000_300)
    store(filled, "x.txt", plain(), mtime=1_800_000_300)
    return filled


BAD_NAMES = [
    "..%2Fsecret.eml",
    "%2E%2E%2Fsecret.eml",
    "..%5Csecret.eml",
    "%2Fetc%2Fpasswd.eml",
    "x.txt",
    ".hidden.eml",
    "link.eml",
    "folder.eml",
    "missing.eml",
    "invite.eml%00.txt",
]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("suffix", ["", "/html", "/raw", "/invite.ics"])
def test_names_that_are_not_plain_eml_files_in_the_mailbox_are_not_found(
    dev_client, traps, name, suffix
):
    get(dev_client, f"/dev/mailbox/{name}{suffix}", 404)


def test_the_list_leaves_out_what_it_would_refuse_to_open(dev_client, traps):
    html = page(get(dev_client, "/dev/mailbox"))

    hrefs = [a.attrs["href"] for a in html.one("table").all("a")]
    assert hrefs == [f"/dev/mailbox/{INVITE}", f"/dev/mailbox/{PLAIN}"]


@pytest.mark.parametrize(
    "name", ["../secret.eml", "sub/../invite.eml", "/etc/passwd.eml", "..", "", "link.eml"]
)
def test_mailbox_path_accepts_only_plain_names_inside_the_folder(traps, name):
    assert mailbox_path(traps, name) is None
    assert mailbox_path(traps, INVITE) == traps / INVITE


# Production


@pytest.mark.parametrize(
    "url",
    ["/dev/mailbox", f"/dev/mailbox/{INVITE}", f"/dev/mailbox/{INVITE}/html", "/dev/outbox"],
)
def test_the_mailbox_is_absent_without_dev_tools(app, client, filled, url):
    app.config["MAILBOX_DIR"] = str(filled)

    assert client.get(url).status_code == 404
