"""Subscribing to the newsletter on the web: the form, double opt-in, and what strangers learn."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.models import MessageKind, OutboxMessage, Subscriber, SubscriberStatus
from outreach.services.newsletter import NEWSLETTER_CONSENT_VERSION
from tests.web.html import page

FORM = "/newsletter/subscribe"
THANKS = "/newsletter/subscribe/thanks"


def form_data(**values) -> dict:
    data = {
        "email": "amina@example.org",
        "name": "Amina Diallo",
        "language": "en",
        "consent": "y",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def subscribers() -> list[Subscriber]:
    db.session.rollback()
    return list(db.session.scalars(select(Subscriber).order_by(Subscriber.id)))


def confirmation_link(outbox) -> str:
    [mail] = outbox(kind=MessageKind.NEWSLETTER_CONFIRMATION)
    return f"/newsletter/confirm/{mail.payload['token']}"


def test_the_form_asks_for_consent_and_hides_the_trap(client):
    response = client.get(f"{FORM}?lang=en")
    assert response.status_code == 200
    html = page(response)
    assert html.one("input", name="email", type="email")
    assert html.one("input", name="consent", type="checkbox")
    assert "I can unsubscribe at any time" in html.text
    assert html.one("input", name="language", value="en").attrs.get("checked") is not None
    trap = html.one("input", name="homepage")
    assert trap.attrs["tabindex"] == "-1"
    assert trap.parent.attrs["aria-hidden"] == "true"
    assert html.unlabelled_controls() == []
    assert html.duplicate_ids() == []


def test_topics_are_offered_when_there_are_any(client, make_event):
    assert 'name="interests"' not in client.get(f"{FORM}?lang=en").get_data(as_text=True)
    make_event(topics=["culture"])
    assert page(client.get(f"{FORM}?lang=en")).one("input", name="interests", value="culture")


def test_subscribing_records_the_consent_and_owes_only_the_confirmation(client, outbox):
    response = client.post(
        f"{FORM}?lang=de",
        data=form_data(language="en"),
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 303
    assert response.location == THANKS
    [person] = subscribers()
    assert person.status is SubscriberStatus.PENDING
    assert (person.email, person.name, person.language) == (
        "amina@example.org",
        "Amina Diallo",
        "en",
    )
    assert person.consent_version == NEWSLETTER_CONSENT_VERSION
    # The consent text was shown in German, whatever language the newsletter comes in.
    assert person.consent_language == "de"
    assert person.consent_ip == "203.0.113.9"
    assert person.consented_at is not None
    assert [row.kind for row in outbox()] == [MessageKind.NEWSLETTER_CONFIRMATION]
    thanks = page(client.get(f"{THANKS}?lang=en"))
    assert "Please confirm your subscription" in thanks.text


def test_the_answer_is_the_same_whoever_is_subscribed(client, outbox):
    answers = []
    # A new address, the same one again (pending), and once it is active.
    for step in range(3):
        if step == 2:
            client.post(confirmation_link(outbox))
        response = client.post(f"{FORM}?lang=en", data=form_data())
        answers.append((response.status_code, response.location))
    assert answers == [(303, THANKS)] * 3
    [person] = subscribers()
    assert person.status is SubscriberStatus.ACTIVE
    assert len(outbox()) == 1


def test_missing_consent_and_a_bad_address_are_explained(client, counts):
    response = client.post(f"{FORM}?lang=en", data=form_data(email="amina@", consent=None))
    assert response.status_code == 422
    html = page(response)
    summary = html.one(class_="error-summary").text
    assert "Please enter a valid email address." in summary
    assert "Please agree, or we may not send you the newsletter." in summary
    assert html.one("input", name="email").attrs["aria-invalid"] == "true"
    assert subscribers() == []
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "values",
    [
        {"language": "xx"},
        {"interests": ["no-such-topic"]},
        {"name": "Amina\r\nBcc: x@example.org"},
        {"email": "a" * 300 + "@example.org"},
    ],
)
def test_odd_input_is_refused_with_422_and_nothing_stored(client, counts, values):
    response = client.post(f"{FORM}?lang=en", data=form_data(**values))
    assert response.status_code == 422
    assert page(response).all(class_="error-summary")
    assert counts() == (0, 0)
    assert subscribers() == []


def test_a_robot_filling_the_trap_gets_the_same_answer_and_nothing_happens(client, counts):
    response = client.post(f"{FORM}?lang=en", data=form_data(homepage="http://spam.example"))
    assert (response.status_code, response.location) == (303, THANKS)
    assert subscribers() == []
    assert counts() == (0, 0)


def test_too_many_subscriptions_get_a_friendly_429(app, database_url):
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_NEWSLETTER="2 per minute",
    )
    try:
        client = limited.test_client()
        statuses = [
            client.post(f"{FORM}?lang=en", data=form_data(email=f"p{n}@example.org")).status_code
            for n in range(3)
        ]
        assert statuses == [303, 303, 429]
        assert "Too many requests" in page(client.post(f"{FORM}?lang=en", data=form_data())).text
        assert client.get(FORM).status_code == 200  # only submissions are counted
        with limited.app_context():
            assert db.session.scalar(select(func.count(Subscriber.id))) == 2
    finally:
        with limited.app_context():
            db.engine.dispose()


# -- confirming ----------------------------------------------------------------------------


def test_opening_the_link_does_not_confirm_pressing_the_button_does(client, outbox):
    client.post(f"{FORM}?lang=en", data=form_data())
    link = confirmation_link(outbox)

    opened = client.get(f"{link}?lang=en")
    assert opened.status_code == 200
    html = page(opened)
    assert "Confirm your subscription" in html.text
    assert html.one("form").attrs["method"] == "post"
    assert [person.status for person in subscribers()] == [SubscriberStatus.PENDING]

    confirmed = client.post(link)
    assert (confirmed.status_code, confirmed.location) == (303, link)
    [person] = subscribers()
    assert person.status is SubscriberStatus.ACTIVE
    assert person.confirmed_at is not None
    after = page(client.get(f"{link}?lang=en"))
    assert "Your subscription is confirmed" in after.text
    # The way to change one's mind is right there (the mail engineer's preferences page).
    [preferences] = [a for a in after.all("a") if "/preferences/" in a.attrs.get("href", "")]
    assert preferences.text.startswith("Choose the language and topics")


def test_a_confirmation_needs_the_form_token(app, database_url, outbox):
    protected = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True
    )
    client = app.test_client()
    client.post(f"{FORM}?lang=en", data=form_data())
    link = confirmation_link(outbox)
    try:
        response = protected.test_client().post(link)
        assert response.status_code == 400
    finally:
        with protected.app_context():
            db.engine.dispose()
    assert [person.status for person in subscribers()] == [SubscriberStatus.PENDING]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_or_expired_link_gets_a_friendly_404(client, outbox, monkeypatch, method):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 8 * 86400)
    client.post(f"{FORM}?lang=en", data=form_data())
    monkeypatch.undo()
    expired = confirmation_link(outbox)
    for link in (expired, "/newsletter/confirm/not-a-token", expired[:-4] + "AAAA"):
        response = getattr(client, method)(f"{link}?lang=en")
        assert response.status_code == 404
        html = page(response)
        assert "This confirmation link is not valid any more" in html.text
        assert html.one("main").all("a", href="/newsletter/subscribe")
    assert [person.status for person in subscribers()] == [SubscriberStatus.PENDING]


def test_confirmation_pages_stay_out_of_search_engines(client, outbox):
    client.post(f"{FORM}?lang=en", data=form_data())
    html = page(client.get(confirmation_link(outbox)))
    assert html.one("meta", name="robots").attrs["content"] == "noindex, nofollow"
    assert html.one("meta", name="referrer").attrs["content"] == "no-referrer"
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
