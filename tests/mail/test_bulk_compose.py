"""Composing bulk mail: campaigns, the newsletter and its opt-in link, read back as a client would.

Rows are written as the campaign engine writes them (``campaign:<id>:<address>``,
``payload`` {"subscriber": id} or {"test": true}); each message is parsed with
the email package, its links opened with the test client.
"""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.compose import LOAD_OPTIONS, Superseded, Unsendable, compose
from outreach.mail.unsubscribe import read_preferences_token, read_unsubscribe_token
from outreach.mail.worker import Worker
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Contribution,
    ContributionStatus,
    IssueStatus,
    ManageToken,
    MessageKind,
    MessageStatus,
    NewsletterIssue,
    OutboxMessage,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services import campaigns, newsletter
from outreach.services.campaigns import CampaignInput

NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
BASE = "http://outreach.test"
TEXTS = {
    "de": {
        "subject": "Einladung für {{ first_name }}",
        "body": "Liebe*r {{ name }},\n\nwir laden Sie **herzlich** ein.",
    },
    "en": {
        "subject": "An invitation for {{ first_name }}",
        "body": "Dear {{ name }},\n\nwe **warmly** invite you.",
    },
}

_parser = BytesParser(policy=email.policy.default)


# -- helpers ------------------------------------------------------------------------


def parse(message: OutboxMessage) -> EmailMessage:
    return _parser.parsebytes(compose(message, now=NOW).raw)


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def unsubscribe_links(message: EmailMessage) -> list[str]:
    return re.findall(r"<([^<>]+)>", str(message["List-Unsubscribe"]))


def path(url: str) -> str:
    assert url.startswith(BASE), url
    return url.removeprefix(BASE)


def make_campaign(
    kind: CampaignKind = CampaignKind.OUTREACH,
    *,
    texts: dict | None = None,
    fallback: str = "de",
    status: CampaignStatus = CampaignStatus.QUEUED,
) -> Campaign:
    campaign = Campaign(
        kind=kind,
        name="Frühjahr",
        texts=texts if texts is not None else TEXTS,
        fallback_language=fallback,
        segment={},
        status=status,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def bulk_row(
    campaign: Campaign,
    address: str = "ada@example.org",
    *,
    name: str = "Ada Lovelace",
    language: str = "de",
    registration=None,
    subscriber: Subscriber | None = None,
    test: bool = False,
) -> OutboxMessage:
    """An outbox row as the engine writes it, loaded as the worker loads it."""
    payload: dict = {}
    if subscriber is not None:
        payload["subscriber"] = subscriber.id
    if test:
        payload["test"] = True
    kind = (
        MessageKind.NEWSLETTER if campaign.kind is CampaignKind.NEWSLETTER else MessageKind.CAMPAIGN
    )
    row = OutboxMessage(
        kind=kind,
        recipient=address,
        recipient_name=name,
        language=language,
        dedupe_key=f"campaign{'-test' if test else ''}:{campaign.id}:{address}",
        campaign_id=campaign.id,
        registration_id=registration.id if registration is not None else None,
        event_id=registration.event_id if registration is not None else None,
        payload=payload,
    )
    db.session.add(row)
    db.session.commit()
    return reload(row.id)


def reload(row_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == row_id).options(*LOAD_OPTIONS)
    ).one()


def make_subscriber(address: str = "ada@example.org", **values) -> Subscriber:
    now = utcnow()
    subscriber = Subscriber(
        email=address,
        name=values.pop("name", "Ada"),
        language=values.pop("language", "de"),
        interests=values.pop("interests", []),
        status=values.pop("status", SubscriberStatus.ACTIVE),
        consent_version="newsletter-test",
        consent_language="de",
        consented_at=now,
        confirmed_at=now,
        **values,
    )
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def suppress(address: str, scope: SuppressionScope, reason=SuppressionReason.UNSUBSCRIBED) -> None:
    db.session.add(Suppression(email=address, scope=scope, reason=reason))
    db.session.commit()


class Tags(HTMLParser):
    """Every start tag of an HTML document with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


# -- campaigns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "strong"),
    [
        ("de", "Einladung für Ada", "Liebe*r Ada Lovelace,", "herzlich"),
        ("en", "An invitation for Ada", "Dear Ada Lovelace,", "warmly"),
    ],
)
def test_a_campaign_comes_in_the_recipients_language(app, language, subject, greeting, strong):
    row = bulk_row(make_campaign(), language=language)

    message = parse(row)

    assert message["Subject"] == subject
    assert message["Content-Language"] == language
    assert message["To"].addresses[0].addr_spec == "ada@example.org"
    assert message["From"].addresses[0].display_name == "Outreach"
    assert greeting in text_of(message)
    html = html_of(message)
    assert f"<strong>{strong}</strong>" in html
    assert f'<html lang="{language}" dir="ltr">' in html


def test_a_language_without_its_own_version_gets_the_fallback(app):
    campaign = make_campaign(texts={"en": TEXTS["en"]}, fallback="en")

    message = parse(bulk_row(campaign, language="de"))

    assert message["Subject"] == "An invitation for Ada"
    assert message["Content-Language"] == "en"


def test_bulk_mail_carries_one_click_unsubscribe_headers(app, client):
    row = bulk_row(make_campaign())

    message = parse(row)

    [link] = unsubscribe_links(message)
    assert link.startswith(f"{BASE}/unsubscribe/")
    assert read_unsubscribe_token(link.rsplit("/", 1)[1]) == (
        "ada@example.org",
        SuppressionScope.OUTREACH,
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == '"Outreach" <campaigns.outreach.test>'
    assert message["Precedence"] == "bulk"
    assert message["Auto-Submitted"] != "auto-replied"
    # Delivery reports (bounces) must still come back; only auto-replies are asked to stay away.
    assert "NDR" not in message.get("X-Auto-Response-Suppress", "")
    assert message["Message-ID"] == compose(row, now=NOW).message_id
    assert client.get(path(link)).status_code == 200


def test_the_mailto_unsubscribe_is_offered_when_an_address_reads_it(app):
    app.config["MAIL_UNSUBSCRIBE_ADDRESS"] = "unsubscribe@outreach.test"

    [https, mailto] = unsubscribe_links(parse(bulk_row(make_campaign())))

    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:unsubscribe@outreach.test?subject=unsubscribe%20{token}"


def test_the_footer_says_why_and_how_to_stop_it_and_its_links_open(app, client):
    message = parse(bulk_row(make_campaign(), language="en"))

    text, html = text_of(message), html_of(message)
    assert "you are a contact of a partner organisation" in text
    signature = re.split(r"\r?\n-- \r?\n", text)[1]
    unsubscribe, preferences = re.findall(r"http://outreach\.test/\S+", signature)
    assert unsubscribe == unsubscribe_links(message)[0]
    assert read_preferences_token(preferences.rsplit("/", 1)[1]) == "ada@example.org"
    links = [attrs["href"] for tag, attrs in Tags(html).found if tag == "a"]
    assert links[-2:] == [unsubscribe, preferences]
    assert client.get(path(unsubscribe)).status_code == 200
    assert client.get(path(preferences)).status_code == 200


def test_a_long_address_still_makes_valid_header_lines(app):
    # As long as the outbox's dedupe key (200 characters) lets a campaign address be.
    address = f"{'a' * 64}@{'c' * 60}.{'d' * 50}.example"
    app.config["MAIL_UNSUBSCRIBE_ADDRESS"] = "unsubscribe@outreach.test"

    raw = compose(bulk_row(make_campaign(), address), now=NOW).raw

    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = _parser.parsebytes(raw)
    assert len(unsubscribe_links(message)) == 2
    assert read_unsubscribe_token(unsubscribe_links(message)[0].rsplit("/", 1)[1])[0] == address


def test_a_registrant_gets_the_event_and_a_manage_link_that_works(
    app, client, make_event, make_registration
):
    event = make_event(title="Erzählcafé")
    registration = make_registration(event, name="Ada Lovelace").registration
    texts = {
        "en": {"subject": "{{ event.title }}", "body": "[Your registration]({{ manage_url }})"}
    }
    row = bulk_row(
        make_campaign(texts=texts, fallback="en"), registration=registration, language="en"
    )

    message = parse(row)

    assert message["Subject"] == "Erzählcafé"
    assert "registered for an event" in text_of(message)
    [link] = [a["href"] for tag, a in Tags(html_of(message)).found if "/r/" in a.get("href", "")]
    db.session.rollback()  # see what the token's own transaction committed, as a request would
    assert client.get(path(link)).status_code == 200
    # Kept on the row: composing again (a retry) gives the same link, and no second token.
    tokens = db.session.scalar(select(func.count(ManageToken.id)))
    again = parse(reload(row.id))
    assert link in html_of(again)
    assert db.session.scalar(select(func.count(ManageToken.id))) == tokens


def test_no_manage_token_is_made_when_the_text_does_not_use_it(app, make_event, make_registration):
    registration = make_registration(make_event()).registration
    tokens = db.session.scalar(select(func.count(ManageToken.id)))
    row = bulk_row(make_campaign(), registration=registration)

    parse(row)

    assert db.session.scalar(select(func.count(ManageToken.id))) == tokens
    assert "token" not in reload(row.id).payload


def test_script_in_a_campaign_or_a_name_never_reaches_the_html_part(app):
    texts = {
        "de": {
            "subject": "Hallo",
            "body": (
                "Hallo {{ name }}\n\n<script>alert(1)</script>\n\n"
                '<img src="x" onerror="alert(2)">\n\n'
                '<a href="javascript:alert(3)" onclick="alert(4)">klick</a>\n\n'
                "[auch](javascript:alert(5)) <iframe src='https://evil.example'></iframe>"
            ),
        }
    }
    row = bulk_row(
        make_campaign(texts=texts), name='<script>alert("name")</script><b onmouseover=x>'
    )

    html = html_of(parse(row))

    tags = Tags(html).found
    assert {tag for tag, _ in tags} <= {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "div",
        "p",
        "a",
        "strong",
        "em",
        "br",
        "hr",
        "ul",
        "ol",
        "li",
        "h2",
        "h3",
        "blockquote",
    }
    for _tag, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")]
        assert not any(value.strip().lower().startswith("javascript:") for value in attrs.values())
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html  # the name is shown as the text it is


def test_a_line_break_in_a_subject_or_name_cannot_add_headers(app):
    texts = {"de": {"subject": "Hallo\r\nBcc: victim@example.org", "body": "Text"}}
    row = bulk_row(make_campaign(texts=texts), name="Ada\r\nBcc: other@example.org")

    message = parse(row)

    assert message["Bcc"] is None
    assert message.get_all("Subject") == ["Hallo Bcc: victim@example.org"]
    assert len(message.get_all("To")) == 1
    assert message["To"].addresses[0].addr_spec == "ada@example.org"


def test_a_test_send_is_marked_and_goes_even_for_a_cancelled_campaign(app):
    campaign = make_campaign(status=CampaignStatus.CANCELLED)
    campaign.texts = {"en": {"subject": "Hello", "body": "[Link]({{ manage_url }})"}}
    campaign.fallback_language = "en"
    db.session.commit()

    message = parse(bulk_row(campaign, language="en", test=True))

    assert message["Subject"] == "[Test] Hello"
    assert "This is a test" in text_of(message)
    assert "because you sent it to yourself" in text_of(message)
    assert f"{BASE}/r/preview" in html_of(message)


def test_a_cancelled_campaign_is_superseded(app):
    row = bulk_row(make_campaign(status=CampaignStatus.CANCELLED))

    with pytest.raises(Superseded, match="cancelled"):
        compose(row, now=NOW)


def test_an_unsubscribed_recipient_is_superseded_for_that_kind_only(app):
    suppress("ada@example.org", SuppressionScope.NEWSLETTER)
    assert parse(bulk_row(make_campaign()))  # outreach still goes

    suppress("ada@example.org", SuppressionScope.OUTREACH)
    with pytest.raises(Superseded, match="outreach"):
        compose(reload(db.session.scalar(select(OutboxMessage.id))), now=NOW)


def test_a_deleted_campaign_or_one_without_text_is_unsendable(app):
    campaign = make_campaign(texts={})
    row = bulk_row(campaign)
    with pytest.raises(Unsendable, match="no text"):
        compose(row, now=NOW)

    db.session.delete(campaign)
    db.session.commit()
    with pytest.raises(Unsendable, match="no longer exists"):
        compose(reload(row.id), now=NOW)


# -- the newsletter -----------------------------------------------------------------


@pytest.fixture
def issue(app, make_org):
    """A published issue with two accepted contributions and a declined one, and its campaign."""
    campaign = make_campaign(CampaignKind.NEWSLETTER, texts={})
    issue = NewsletterIssue(
        slug="2031-fruehjahr",
        title={"de": "Frühjahr 2031", "en": "Spring 2031"},
        intro={"de": "Willkommen zum **Frühjahr**.", "en": "Welcome to **spring**."},
        status=IssueStatus.PUBLISHED,
        published_at=utcnow(),
        campaign_id=campaign.id,
    )
    db.session.add(issue)
    for position, (name, status) in enumerate(
        [
            ("Kulturverein Mitte", ContributionStatus.ACCEPTED),
            ("Netzwerk Süd", ContributionStatus.ACCEPTED),
            ("Abgelehnt e.V.", ContributionStatus.DECLINED),
        ]
    ):
        db.session.add(
            Contribution(
                organisation=make_org(name=name),
                issue=issue,
                texts={
                    "de": {"title": f"Neues von {name}", "body": f"Text *{position}* auf Deutsch"},
                    "en": {"title": f"News from {name}", "body": f"Text *{position}* in English"},
                },
                status=status,
                position=position,
            )
        )
    db.session.commit()
    return issue


@pytest.mark.parametrize(
    ("language", "title", "intro", "item", "body"),
    [
        ("de", "Frühjahr 2031", "Willkommen zum", "Neues von Kulturverein Mitte", "auf Deutsch"),
        ("en", "Spring 2031", "Welcome to", "News from Kulturverein Mitte", "in English"),
    ],
)
def test_the_newsletter_brings_the_issue_in_the_subscribers_language(
    app, client, issue, language, title, intro, item, body
):
    subscriber = make_subscriber(language=language)
    row = bulk_row(issue.campaign, language=language, subscriber=subscriber)

    message = parse(row)

    assert message["Subject"] == title
    assert message["List-Id"] == '"Outreach" <newsletter.outreach.test>'
    [link] = unsubscribe_links(message)
    assert read_unsubscribe_token(link.rsplit("/", 1)[1])[1] is SuppressionScope.NEWSLETTER
    text, html = text_of(message), html_of(message)
    for part in (text, html):
        assert intro in part and item in part and body in part
        assert "Netzwerk Süd" in part
        assert "Abgelehnt" not in part
        assert f"{BASE}/newsletter/2031-fruehjahr" in part
    assert text.index("Kulturverein Mitte") < text.index("Netzwerk Süd")
    assert "<strong>" in html and "<em>0</em>" in html


def test_the_newsletter_says_why_it_comes(app, issue):
    subscriber = make_subscriber(language="en")

    message = parse(bulk_row(issue.campaign, language="en", subscriber=subscriber))

    assert "because you subscribed to it at Outreach" in text_of(message)


def test_the_newsletter_is_superseded_once_the_subscription_ended(app, issue):
    subscriber = make_subscriber()
    row = bulk_row(issue.campaign, subscriber=subscriber)
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    db.session.commit()

    with pytest.raises(Superseded, match="subscription"):
        compose(reload(row.id), now=NOW)


def test_a_newsletter_campaign_without_an_issue_sends_its_own_text(app):
    subscriber = make_subscriber()
    campaign = make_campaign(CampaignKind.NEWSLETTER)

    message = parse(bulk_row(campaign, subscriber=subscriber))

    assert message["Subject"] == "Einladung für Ada"
    assert message["List-Id"] == '"Outreach" <newsletter.outreach.test>'


# -- the opt-in link ----------------------------------------------------------------


def subscribe(address: str = "grace@example.org", language: str = "en") -> OutboxMessage:
    newsletter.subscribe(
        newsletter.SubscriptionInput(
            email=address, language=language, consent=True, consent_language=language, name="Grace"
        )
    )
    row_id = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.kind == MessageKind.NEWSLETTER_CONFIRMATION)
    )
    return reload(row_id)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_confirmation_link_makes_the_subscription_active(app, client, language):
    row = subscribe(language=language)

    message = parse(row)

    assert message["Content-Language"] == language
    assert f'<html lang="{language}"' in html_of(message)
    assert "Grace" in text_of(message)
    assert message["List-Unsubscribe"] is None  # no bulk mail: the person asked for it
    text = text_of(message)
    [link] = re.findall(r"http://outreach\.test/newsletter/confirm/\S+", text)
    assert link in html_of(message)
    assert client.get(path(link)).status_code == 200
    client.post(path(link))
    subscriber = db.session.scalar(select(Subscriber))
    db.session.refresh(subscriber)
    assert subscriber.status is SubscriberStatus.ACTIVE

    with pytest.raises(Superseded, match="active"):
        compose(reload(row.id), now=NOW)


def test_the_confirmation_goes_even_to_an_address_that_unsubscribed_before(app):
    suppress("grace@example.org", SuppressionScope.NEWSLETTER)

    assert parse(subscribe())["To"].addresses[0].addr_spec == "grace@example.org"


# -- through the worker -------------------------------------------------------------


def test_a_campaign_sent_by_the_worker_carries_a_manage_link_that_works(
    mail_app, smtp, client, make_event, make_registration, make_user
):
    event = make_event(title="Erzählcafé")
    make_registration(event, name="Ada Lovelace", email="ada@example.org", language="en")
    make_registration(event, name="Bruno Schulz", email="bruno@example.org", language="de")
    staff = make_user("staff")
    worker = Worker(mail_app)
    assert worker.run_once().counts == {"sent": 2}  # the confirmations
    campaign = campaigns.create_campaign(
        CampaignInput(
            kind=CampaignKind.OUTREACH,
            name="Erinnerung",
            texts={
                "de": {
                    "subject": "Bis bald, {{ first_name }}",
                    "body": "[Anmeldung]({{ manage_url }})",
                },
                "en": {
                    "subject": "See you, {{ first_name }}",
                    "body": "[Your seat]({{ manage_url }})",
                },
            },
            fallback_language="de",
            segment={"type": "registrants", "events": [event.id], "statuses": ["confirmed"]},
        ),
        by=staff,
    )
    campaigns.send_now(campaign, by=staff)
    assert campaigns.enqueue(campaign) == 2

    assert worker.run_once().counts == {"sent": 2}

    [to_ada] = [m for m in smtp.to("ada@example.org") if m["List-Unsubscribe"]]
    [to_bruno] = [m for m in smtp.to("bruno@example.org") if m["List-Unsubscribe"]]
    assert to_ada["Subject"] == "See you, Ada"
    assert to_bruno["Subject"] == "Bis bald, Bruno"
    for message in (to_ada, to_bruno):
        [link] = re.findall(r"http://outreach\.test/r/[A-Za-z0-9_-]+", text_of(message))
        assert client.get(path(link)).status_code == 200
    db.session.rollback()
    statuses = db.session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.campaign_id == campaign.id)
    ).all()
    assert statuses == [MessageStatus.SENT, MessageStatus.SENT]
