"""Rate limits on the public forms and logins, in memory and in Redis (off in other tests).

Each test builds a fresh app with RATELIMIT_ENABLED and small limits, on the
test database. Over its limit a form answers 429 with Retry-After: a page in
the reader's language, or JSON under /api/. The Redis test talks to the real
server on 127.0.0.1:6379 (database 11, a client address of its own) and is
skipped when there is none.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db, limiter
from tests.web.html import page

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def limited(app, database_url) -> Iterator:
    """Build apps with rate limits on: ``limited(RATELIMIT_LOGIN="2 per minute")``.

    They share the test database with ``app``, whose teardown empties it.
    """
    built: list[Flask] = []

    def build(**settings) -> Flask:
        app = create_app(
            TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True, **settings
        )
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.engine.dispose()
    # The Limiter is one object for every app of the process and remembers that a storage
    # failed (test_an_unreachable_redis_…); a real process has one app, tests have many.
    limiter._storage_dead = False


def register_data(number: int) -> dict:
    return {
        "name": f"Person {number}",
        "email": f"person{number}@example.org",
        "language": "de",
        "consent": "y",
    }


def apply_data(number: int) -> dict:
    return {
        "organisation_name": f"Verein {number}",
        "city": "Köln",
        "contact_name": "Lina",
        "contact_email": f"lina{number}@example.org",
        "languages": ["de"],
        "description": "Wir machen Nachbarschaftsarbeit.",
        "consent": "y",
    }


def subscribe_data(number: int) -> dict:
    return {"email": f"leser{number}@example.org", "language": "de", "consent": "y"}


def _refused_properly(response, *, at_most: int = 60) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= at_most
    assert response.mimetype == "text/html"
    assert page(response).one("h1").text == "Too many requests"


def test_registering_is_limited_per_address_and_stores_nothing_over_it(limited, make_event, counts):
    client = limited(RATELIMIT_REGISTER="2 per minute").test_client()
    first, second = make_event(slug="one"), make_event(slug="two")

    statuses = [
        client.post(f"/events/{first.slug}?lang=en", data=register_data(n)).status_code
        for n in range(2)
    ]
    # One limit per address across every event: a robot cannot spread out.
    refused = client.post(f"/events/{second.slug}?lang=en", data=register_data(3))

    assert statuses == [303, 303]
    _refused_properly(refused)
    assert counts() == (2, 2)
    assert client.get(f"/events/{second.slug}").status_code == 200  # reading is not counted
    other = client.post(
        f"/events/{second.slug}",
        data=register_data(4),
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert other.status_code == 303  # somebody else is not held up


@pytest.mark.parametrize(
    ("url", "setting", "data", "answer"),
    [
        ("/login", "RATELIMIT_LOGIN", lambda n: {"email": "x@example.org", "password": "x"}, 401),
        ("/password/forgot", "RATELIMIT_PASSWORD_RESET", lambda n: {"email": "x@x.org"}, 200),
        ("/newsletter/subscribe", "RATELIMIT_NEWSLETTER", subscribe_data, 303),
        ("/become-a-partner", "RATELIMIT_APPLY", apply_data, 303),
    ],
)
def test_each_public_form_answers_429_with_retry_after_over_its_limit(
    limited, url, setting, data, answer
):
    client = limited(**{setting: "2 per minute"}).test_client()

    statuses = [client.post(f"{url}?lang=en", data=data(n)).status_code for n in range(2)]
    refused = client.post(f"{url}?lang=en", data=data(3))

    assert statuses == [answer, answer]
    _refused_properly(refused)
    assert client.get(url).status_code == 200  # only sending the form is counted


def test_password_resets_and_logins_are_counted_apart(limited):
    client = limited(RATELIMIT_LOGIN="1 per minute", RATELIMIT_PASSWORD_RESET="1 per minute")
    client = client.test_client()

    login = client.post("/login", data={"email": "x@example.org", "password": "x"})
    forgot = client.post("/password/forgot", data={"email": "x@example.org"})

    assert (login.status_code, forgot.status_code) == (401, 200)
    assert client.post("/password/forgot", data={"email": "x@example.org"}).status_code == 429


def test_the_429_page_speaks_the_readers_language(limited, make_event):
    client = limited(RATELIMIT_REGISTER="1 per minute").test_client()
    event = make_event()
    client.post(f"/events/{event.slug}", data=register_data(1))

    refused = client.post(f"/events/{event.slug}?lang=de", data=register_data(2))

    html = page(refused)
    assert refused.status_code == 429
    assert html.one("h1").text == "Zu viele Anfragen"
    assert "Bitte warten Sie eine Minute" in html.text


def test_a_limit_over_a_long_window_says_how_long_to_wait(limited):
    client = limited(RATELIMIT_APPLY="1 per hour").test_client()
    client.post("/become-a-partner", data=apply_data(1))

    refused = client.post("/become-a-partner?lang=en", data=apply_data(2))

    _refused_properly(refused, at_most=3600)
    assert int(refused.headers["Retry-After"]) > 60
    assert "Please try again in 60 minutes." in page(refused).text


def test_the_api_answers_429_in_json(limited):
    client = limited(RATELIMIT_API="1 per minute").test_client()

    client.get("/api/v1/events")
    refused = client.get("/api/v1/events")

    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert refused.get_json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0


# -- behind a reverse proxy ----------------------------------------------------------


def _login_from(client, forwarded_for: str):
    return client.post(
        "/login",
        data={"email": "x@example.org", "password": "x"},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_a_proxy_each_client_address_has_its_own_count(limited):
    client = limited(RATELIMIT_LOGIN="1 per minute", PROXY_FIX_HOPS=1).test_client()

    first = _login_from(client, "198.51.100.1")
    second = _login_from(client, "198.51.100.2")
    again = _login_from(client, "198.51.100.1")

    assert (first.status_code, second.status_code, again.status_code) == (401, 401, 429)


def test_without_proxy_fix_a_forwarded_for_header_changes_nothing(limited):
    client = limited(RATELIMIT_LOGIN="1 per minute").test_client()

    first = _login_from(client, "198.51.100.1")
    # A client cannot dodge the limit by claiming to be somebody else.
    second = _login_from(client, "198.51.100.2")

    assert (first.status_code, second.status_code) == (401, 429)


def test_only_the_configured_number_of_proxies_is_trusted(limited):
    client = limited(RATELIMIT_LOGIN="1 per minute", PROXY_FIX_HOPS=1).test_client()

    # The client wrote the first entry itself; our one proxy appended the real address.
    first = _login_from(client, "203.0.113.9, 198.51.100.7")
    forged = _login_from(client, "203.0.113.10, 198.51.100.7")

    assert (first.status_code, forged.status_code) == (401, 429)


# -- storage ---------------------------------------------------------------------------


def _redis():
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return server


def test_two_app_instances_share_their_counts_in_redis(limited):
    server = _redis()
    # An address of this run's own, so parallel runs and other data in Redis do not mix in.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_LOGIN": "2 per minute"}
    try:
        one = limited(**settings).test_client()
        statuses = [
            one.post(
                "/login", data={}, environ_base={"REMOTE_ADDR": address}
            ).status_code  # an empty form: 422, and counted
            for _ in range(2)
        ]
        # A second instance (another process or machine in production) starts counting
        # from what Redis holds; with memory storage it would start from zero.
        two = limited(**settings).test_client()
        refused = two.post("/login", data={}, environ_base={"REMOTE_ADDR": address})

        assert statuses == [422, 422]
        assert refused.status_code == 429
        assert server.keys(f"*{address}*"), "the count is not in Redis"
    finally:
        for key in server.scan_iter(f"*{address}*"):
            server.delete(key)
        server.close()


def test_memory_counts_belong_to_one_instance(limited):
    settings = {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_LOGIN": "2 per minute"}
    one = limited(**settings).test_client()
    [one.post("/login", data={}) for _ in range(2)]

    two = limited(**settings).test_client()

    assert two.post("/login", data={}).status_code == 422


def test_an_unreachable_redis_falls_back_to_memory_instead_of_failing(limited):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    client = limited(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_LOGIN="2 per minute"
    ).test_client()

    statuses = [client.post("/login", data={}).status_code for _ in range(3)]

    assert statuses == [422, 422, 429]
