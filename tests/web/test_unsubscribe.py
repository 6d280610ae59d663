"""Unsubscribing and mail preferences: pages behind signed links, no account, no login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.mail.unsubscribe import (
    preferences_token,
    preferences_url,
    read_unsubscribe_token,
    unsubscribe_token,
    unsubscribe_url,
)
from outreach.models import (
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    Topic,
    utcnow,
)
from outreach.services.mail_preferences import preferences_for
from tests.web.html import page

OUTREACH = SuppressionScope.OUTREACH
NEWSLETTER = SuppressionScope.NEWSLETTER
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
ADA = "ada@example.org"


def entries(email: str = ADA) -> dict[SuppressionScope, SuppressionReason]:
    """The address's suppression entries, from a fresh snapshot."""
    db.session.rollback()
    rows = db.session.scalars(select(Suppression).where(Suppression.email == email))
    return {row.scope: row.reason for row in rows}


def path(url: str) -> str:
    return url.removeprefix("http://outreach.test")


@pytest.fixture
def csrf_on(app):
    """Check CSRF tokens as production does (TestingConfig switches it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def topics(app):
    db.session.add_all(
        [
            Topic(slug="culture", names={"de": "Kultur", "en": "Culture"}),
            Topic(slug="education", names={"de": "Bildung", "en": "Education"}),
        ]
    )
    db.session.commit()


@pytest.fixture
def subscriber(app, topics):
    """An active newsletter subscriber, ada@example.org, reading German about culture."""
    now = utcnow()
    person = Subscriber(
        email=ADA,
        name="Ada",
        language="de",
        interests=["culture"],
        status=SubscriberStatus.ACTIVE,
        consent_version="newsletter-test",
        consent_language="de",
        consented_at=now,
        confirmed_at=now,
    )
    db.session.add(person)
    db.session.commit()
    return person


# -- the links ----------------------------------------------------------------------


def test_an_unsubscribe_link_names_the_address_and_the_kind_of_mail(app):
    token = unsubscribe_token("Ada@Example.org", NEWSLETTER)

    assert read_unsubscribe_token(token) == (ADA, NEWSLETTER)
    assert unsubscribe_url(ADA, OUTREACH).startswith("http://outreach.test/unsubscribe/")
    assert preferences_url(ADA).startswith("http://outreach.test/preferences/")


def test_a_link_for_one_purpose_is_no_link_for_another(app):
    assert read_unsubscribe_token(preferences_token(ADA)) is None
    with pytest.raises(ValueError, match="scope"):
        unsubscribe_token(ADA, SuppressionScope.ALL)


# -- unsubscribing ------------------------------------------------------------------


def test_opening_the_link_asks_and_changes_nothing(client):
    response = client.get(path(unsubscribe_url(ADA, OUTREACH)) + "?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert ADA in html.one("p", class_="lead").text
    [form] = html.all("form", method="post")
    assert form.attrs["action"] == path(unsubscribe_url(ADA, OUTREACH))
    assert form.one("button").text == "Unsubscribe"
    assert entries() == {}


def test_the_pages_stay_out_of_caches_indexes_and_referers(client):
    response = client.get(path(unsubscribe_url(ADA, OUTREACH)))

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_one_click_post_unsubscribes_without_session_or_csrf_token(client, csrf_on):
    response = client.post(path(unsubscribe_url(ADA, OUTREACH)), data=ONE_CLICK)

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert entries() == {OUTREACH: SuppressionReason.UNSUBSCRIBED}


def test_unsubscribing_twice_is_fine(client):
    url = path(unsubscribe_url(ADA, OUTREACH))

    assert client.post(url, data=ONE_CLICK).status_code == 200
    assert client.post(url, data=ONE_CLICK).status_code == 200
    assert client.post(url).status_code == 200
    assert entries() == {OUTREACH: SuppressionReason.UNSUBSCRIBED}


def test_the_button_unsubscribes_and_says_so(client, csrf_on):
    response = client.post(path(unsubscribe_url(ADA, OUTREACH)) + "?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert html.one("h1").text == "You are unsubscribed"
    assert "invitations and news about our events" in html.one("p", class_="lead").text
    assert html.all("a", href=path(preferences_url(ADA)))
    assert entries() == {OUTREACH: SuppressionReason.UNSUBSCRIBED}


def test_unsubscribing_from_the_newsletter_ends_the_subscription(client, subscriber):
    client.post(path(unsubscribe_url(ADA, NEWSLETTER)), data=ONE_CLICK)

    assert entries() == {NEWSLETTER: SuppressionReason.UNSUBSCRIBED}
    db.session.refresh(subscriber)
    assert subscriber.status is SubscriberStatus.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None


def test_unsubscribing_from_one_kind_keeps_the_other(client, subscriber):
    client.post(path(unsubscribe_url(ADA, OUTREACH)), data=ONE_CLICK)

    db.session.refresh(subscriber)
    assert subscriber.status is SubscriberStatus.ACTIVE
    assert entries() == {OUTREACH: SuppressionReason.UNSUBSCRIBED}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token.split(".")[0],
        lambda token: "not-a-token",
        lambda token: preferences_token(ADA),
        lambda token: "x" * 2000,
    ],
    ids=["forged signature", "no signature", "garbage", "other purpose", "too long"],
)
def test_a_bad_link_is_a_404_page(client, mangle):
    token = mangle(unsubscribe_token(ADA, OUTREACH))

    for response in (
        client.get(f"/unsubscribe/{token}"),
        client.post(f"/unsubscribe/{token}", data=ONE_CLICK),
    ):
        assert response.status_code == 404
        assert "<h1>" in response.get_data(as_text=True)
    assert entries() == {}


def test_a_bad_preferences_link_is_a_404_page(client):
    token = unsubscribe_token(ADA, OUTREACH)

    assert client.get(f"/preferences/{token}").status_code == 404
    assert client.post(f"/preferences/{token}", data={"outreach": "y"}).status_code == 404
    assert client.post(f"/preferences/{token}/leave").status_code == 404


# -- preferences ----------------------------------------------------------------------


def test_the_preferences_page_shows_what_the_person_gets(client, subscriber):
    html = page(client.get(path(preferences_url(ADA)) + "?lang=en"))

    assert html.one("input", name="outreach").attrs.get("checked") is not None
    assert html.one("input", name="newsletter").attrs.get("checked") is not None
    assert html.one("input", name="language", value="de").attrs.get("checked") is not None
    assert html.one("input", name="interests", value="culture").attrs.get("checked") is not None
    assert html.one("input", name="interests", value="education").attrs.get("checked") is None
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_a_subscriber_changes_language_and_interests(client, subscriber):
    url = path(preferences_url(ADA))

    response = client.post(
        url,
        data={
            "outreach": "y",
            "newsletter": "y",
            "language": "en",
            "interests": ["education", "culture"],
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == url
    db.session.refresh(subscriber)
    assert subscriber.language == "en"
    assert subscriber.interests == ["culture", "education"]
    assert subscriber.status is SubscriberStatus.ACTIVE
    assert entries() == {}


def test_no_interests_means_everything(client, subscriber):
    data = {"outreach": "y", "newsletter": "y", "language": "de"}

    client.post(path(preferences_url(ADA)), data=data)

    db.session.refresh(subscriber)
    assert subscriber.interests == []


def test_outreach_mail_can_be_stopped_and_started_again(client):
    url = path(preferences_url(ADA))

    client.post(url, data={})
    assert entries() == {OUTREACH: SuppressionReason.UNSUBSCRIBED}

    client.post(url, data={"outreach": "y"})
    assert entries() == {}


def test_a_bounce_is_not_lifted_by_asking(client, app):
    db.session.add(Suppression(email=ADA, reason=SuppressionReason.HARD_BOUNCE))
    db.session.commit()

    client.post(path(preferences_url(ADA)), data={"outreach": "y"})

    assert entries() == {SuppressionScope.ALL: SuppressionReason.HARD_BOUNCE}
    assert preferences_for(ADA, locale="de").outreach is False


def test_unticking_the_newsletter_ends_the_subscription(client, subscriber):
    client.post(path(preferences_url(ADA)), data={"outreach": "y", "language": "de"})

    db.session.refresh(subscriber)
    assert subscriber.status is SubscriberStatus.UNSUBSCRIBED
    assert entries() == {NEWSLETTER: SuppressionReason.UNSUBSCRIBED}


def test_someone_without_a_subscription_cannot_start_one_here(client, app):
    html = page(client.get(path(preferences_url(ADA)) + "?lang=en"))
    assert html.all("input", name="newsletter") == []
    assert "not subscribed" in html.text

    client.post(path(preferences_url(ADA)), data={"outreach": "y", "newsletter": "y"})

    assert db.session.scalar(select(Subscriber)) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"language": "xx"}, "language"),
        ({"language": "de", "interests": ["no-such-topic"]}, "interests"),
    ],
)
def test_a_choice_not_offered_is_a_form_error(client, subscriber, data, field):
    response = client.post(
        path(preferences_url(ADA)) + "?lang=en", data={"outreach": "y", "newsletter": "y", **data}
    )

    assert response.status_code == 422
    html = page(response)
    assert html.by_id(f"{field}-error").text
    assert html.one(class_="error-summary").all("a", href=f"#{field}")
    db.session.refresh(subscriber)
    assert (subscriber.language, subscriber.interests) == ("de", ["culture"])


def test_the_preferences_form_needs_its_csrf_token(client, subscriber, csrf_on):
    response = client.post(path(preferences_url(ADA)), data={"language": "en"})

    assert response.status_code == 400
    db.session.refresh(subscriber)
    assert subscriber.language == "de"


def test_leaving_everything_asks_first_then_stops_all_bulk_mail(client, subscriber):
    leave = path(preferences_url(ADA)) + "/leave"

    html = page(client.get(leave + "?lang=en"))
    assert html.one("form", method="post").attrs["action"] == leave
    assert entries() == {}

    response = client.post(leave + "?lang=en")

    assert response.status_code == 200
    assert "no more of these emails" in page(response).one("h1").text
    assert entries() == {
        OUTREACH: SuppressionReason.UNSUBSCRIBED,
        NEWSLETTER: SuppressionReason.UNSUBSCRIBED,
    }
    db.session.refresh(subscriber)
    assert subscriber.status is SubscriberStatus.UNSUBSCRIBED


@pytest.fixture
def limited_client(app, database_url):
    """A client of an app with rate limits on (two unsubscribes a minute), on the test database."""
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_UNSUBSCRIBE="2 per minute",
    )
    yield limited.test_client()
    with limited.app_context():
        db.engine.dispose()


def test_unsubscribing_is_rate_limited_mildly(limited_client):
    url = path(unsubscribe_url(ADA, OUTREACH))

    statuses = [limited_client.post(url, data=ONE_CLICK).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert limited_client.get(url).status_code == 200  # the page itself is not limited
