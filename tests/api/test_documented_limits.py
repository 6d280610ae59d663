"""The limits the OpenAPI document states hold for a value as it is sent.

Schemathesis (test_schemathesis.py) found these: the services trim spaces
before they count characters, so text over a documented ``maxLength`` that
was mostly spaces got through, and ``?format=`` (empty) was answered although
the document did not allow it. The API now checks the length as sent, and
the document says that an empty ``format`` means both.
"""

from __future__ import annotations

import pytest

from outreach.extensions import db
from outreach.models import EventStatus
from outreach.services import api_tokens
from outreach.services.review import MAX_COMMENT_LENGTH
from outreach.services.scheduling import MAX_REASON_LENGTH, TEXT_LIMITS, TRANSLATION_LIMITS


@pytest.fixture
def staff_header(make_user):
    _token, secret = api_tokens.create_token(make_user("staff"), "Tests")
    return {"Authorization": f"Bearer {secret}"}


def padded(limit: int, word: str = "Text") -> str:
    """A value one character over ``limit`` that trimming would bring under it."""
    return " " * (limit + 1 - len(word)) + word


def test_a_reason_over_the_limit_is_refused_even_when_mostly_spaces(api, make_event, staff_header):
    for status in (EventStatus.PUBLISHED, EventStatus.CANCELLED):
        event = make_event(status=status)

        response = api.post(
            f"/api/v1/events/{event.slug}/cancel",
            headers=staff_header,
            json={"reason": padded(MAX_REASON_LENGTH)},
        )

        assert response.status_code == 422
        assert set(response.get_json()["fields"]) == {"reason"}
        db.session.expire_all()
        assert event.status is status


def test_a_comment_over_the_limit_is_refused_even_when_mostly_spaces(api, make_event, staff_header):
    event = make_event(status=EventStatus.DRAFT)

    response = api.post(
        f"/api/v1/events/{event.slug}/submit",
        headers=staff_header,
        json={"comment": "\x1d" * (MAX_COMMENT_LENGTH + 1)},
    )

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"comment"}
    db.session.expire_all()
    assert event.status is EventStatus.DRAFT


@pytest.mark.parametrize("name", sorted(TEXT_LIMITS))
def test_event_texts_over_their_limit_are_refused_as_sent(api, make_event, staff_header, name):
    event = make_event()

    response = api.open(
        "PATCH",
        f"/api/v1/events/{event.slug}",
        headers=staff_header,
        json={name: padded(TEXT_LIMITS[name], "https://example.org")},
    )

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {name}


@pytest.mark.parametrize("name", sorted(TRANSLATION_LIMITS))
def test_translations_over_their_limit_are_refused_as_sent(api, make_event, staff_header, name):
    event = make_event()

    response = api.open(
        "PATCH",
        f"/api/v1/events/{event.slug}",
        headers=staff_header,
        json={"texts": {"de": {name: padded(TRANSLATION_LIMITS[name])}}},
    )

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {f"de.{name}"}


def test_a_contact_address_over_the_limit_is_refused(api, make_event, staff_header):
    event = make_event()

    response = api.open(
        "PATCH",
        f"/api/v1/events/{event.slug}",
        headers=staff_header,
        json={"contact_email": padded(254, "a@example.org")},
    )

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"contact_email"}


def test_a_name_over_the_limit_is_refused_even_when_mostly_spaces(
    api, make_event, registration_body, counts
):
    event = make_event()
    before = counts()

    response = api.post(
        f"/api/v1/events/{event.slug}/registrations",
        json=registration_body(name=padded(200, "Amina")),
    )

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"name"}
    assert counts() == before


def test_an_empty_format_means_both_and_is_documented(api, make_event, openapi):
    make_event(online_url="https://meet.example.org/x")
    make_event()
    schema = openapi.document["components"]["parameters"]["format"]["schema"]

    response = api.get("/api/v1/events?format=")

    assert response.status_code == 200
    assert len(response.get_json()["items"]) == 2
    assert openapi.validator(schema).is_valid("")
    assert not openapi.validator(schema).is_valid("boat")
