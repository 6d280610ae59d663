"""POST /api/v1/events/<slug>/registrations, GET and DELETE /api/v1/registrations/<token>."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind, utcnow


def in_days(days: float) -> datetime:
    return utcnow().replace(microsecond=0) + timedelta(days=days)


@pytest.fixture
def post_registration(api):
    def post(event, body, **kwargs):
        kwargs.setdefault("json", body)
        return api.post(f"/api/v1/events/{event.slug}/registrations", **kwargs)

    return post


def answers_for(event, **by_position) -> dict[str, object]:
    """Answers keyed by question id, given by position: answers_for(event, q0="Köln")."""
    return {str(event.questions[int(key[1:])].id): value for key, value in by_position.items()}


# -- creating -----------------------------------------------------------------


def test_registering_returns_201_with_a_token_a_manage_url_and_one_outbox_row(
    api, make_event, post_registration, registration_body, outbox, counts
):
    event = make_event(capacity=5)

    response = post_registration(event, registration_body(email="Amina@Example.org"))

    assert response.status_code == 201
    body = response.get_json()
    token = body["manage_token"]
    assert body["status"] == "confirmed"
    assert body["manage_url"] == f"http://outreach.test/r/{token}"
    assert response.headers["Location"] == f"/api/v1/registrations/{token}"
    assert counts() == (1, 1)
    [message] = outbox()
    assert message.kind is MessageKind.REGISTRATION_CONFIRMED
    assert message.recipient == "amina@example.org"
    assert message.payload["token"] == token
    assert api.get(response.headers["Location"]).get_json()["email"] == "amina@example.org"


def test_full_event_with_a_waitlist_puts_people_on_it_in_order(
    api, make_event, post_registration, registration_body, outbox
):
    event = make_event(capacity=1)
    post_registration(event, registration_body())

    second = post_registration(event, registration_body()).get_json()
    third = post_registration(event, registration_body()).get_json()

    assert second["status"] == third["status"] == "waitlisted"
    positions = [
        api.get(f"/api/v1/registrations/{b['manage_token']}").get_json()["waitlist_position"]
        for b in (second, third)
    ]
    assert positions == [1, 2]
    assert [row.kind for row in outbox()].count(MessageKind.REGISTRATION_WAITLISTED) == 2


def test_full_event_without_a_waitlist_is_a_409_and_stores_nothing(
    make_event, make_registration, post_registration, registration_body, counts
):
    event = make_event(capacity=1, waitlist_enabled=False)
    make_registration(event)
    before = counts()

    response = post_registration(event, registration_body())

    assert response.status_code == 409
    assert response.get_json()["error"] == "event_full"
    assert response.get_json()["message"]
    assert counts() == before


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"registration_opens_at": in_days(1)}, "not_yet_open"),
        ({"registration_closes_at": in_days(-1)}, "closed"),
        ({"starts_at": in_days(-0.05), "ends_at": in_days(0.1)}, "past"),
        ({"starts_at": in_days(-3)}, "past"),
        ({"status": EventStatus.CANCELLED}, "cancelled"),
    ],
)
def test_registering_when_registration_is_not_open_is_a_409_with_the_reason(
    make_event, post_registration, registration_body, counts, values, reason
):
    event = make_event(**values)

    response = post_registration(event, registration_body())

    assert response.status_code == 409
    assert response.get_json()["error"] == "registration_closed"
    assert response.get_json()["reason"] == reason
    assert counts() == (0, 0)


def test_registering_for_an_unknown_or_draft_event_is_a_404(
    api, make_event, registration_body, counts
):
    draft = make_event(status=EventStatus.DRAFT)

    for slug in (draft.slug, "no-such-event"):
        response = api.post(f"/api/v1/events/{slug}/registrations", json=registration_body())
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    assert counts() == (0, 0)


def test_a_second_registration_by_the_same_address_gets_202_and_no_token(
    make_event, post_registration, registration_body, outbox, counts
):
    event = make_event(capacity=5)
    first = post_registration(event, registration_body(email="amina@example.org"))

    again = post_registration(event, registration_body(email=" AMINA@example.org", guests=0))

    assert first.status_code == 201
    assert again.status_code == 202
    body = again.get_json()
    assert body["status"] == "email_sent"
    assert "manage_token" not in body and "manage_url" not in body
    assert first.get_json()["manage_token"] not in again.get_data(as_text=True)
    assert counts()[0] == 1
    assert [row.kind for row in outbox()] == [
        MessageKind.REGISTRATION_CONFIRMED,
        MessageKind.MANAGE_LINK,
    ]


def test_answers_are_stored_by_question_id(
    api, event_with_questions, post_registration, registration_body
):
    event = event_with_questions()
    answers = answers_for(
        event, q0=" Köln ", q1="Rollstuhl", q2="uk", q3=["halal", "vegan"], q4=True
    )

    created = post_registration(event, registration_body(answers=answers, guests=2))

    assert created.status_code == 201, created.get_json()
    shown = api.get(f"/api/v1/registrations/{created.get_json()['manage_token']}").get_json()
    assert shown["guests"] == 2
    assert shown["answers"] == answers_for(
        event, q0="Köln", q1="Rollstuhl", q2="uk", q3=["vegan", "halal"], q4=True
    )


# -- refusing input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"guests": True}, "guests"),
        ({"guests": "1"}, "guests"),
        ({"guests": 1.0}, "guests"),
        ({"guests": None}, "guests"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"email": ["amina@example.org"]}, "email"),
        ({"language": {"code": "de"}}, "language"),
        ({"consent": "yes"}, "consent"),
        ({"consent": 1}, "consent"),
        ({"answers": []}, "answers"),
        ({"answers": "none"}, "answers"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_wrong_json_types_and_unknown_fields_are_422_per_field_and_store_nothing(
    make_event, post_registration, registration_body, counts, change, field
):
    event = make_event()

    response = post_registration(event, registration_body(**change))

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == {field}
    assert counts() == (0, 0)


def test_missing_fields_are_named(make_event, post_registration, counts):
    event = make_event()

    response = post_registration(event, {})

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"name", "email", "language", "consent"}
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a" * 300 + "@example.org"}, "email"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Amina\x00Yusuf"}, "name"),
        ({"language": "xx"}, "language"),
        ({"guests": 3}, "guests"),
        ({"guests": -1}, "guests"),
        ({"guests": 10**100}, "guests"),
        ({"consent": False}, "consent"),
        ({"answers": {"999999": "?"}}, "answers"),
    ],
)
def test_values_the_service_refuses_are_422_per_field(
    event_with_questions, post_registration, registration_body, counts, change, field
):
    event = event_with_questions(max_guests=2)
    body = registration_body(answers=answers_for(event, q0="Köln"))
    body.update(change)

    response = post_registration(event, body)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("position", "value"),
    [
        (0, None),  # required text left out
        (0, "   "),
        (0, "x" * 201),
        (1, "line\x1bescape"),
        (2, "fr"),
        (3, ["pizza"]),
        (3, "vegan"),
        (4, "yes"),
    ],
)
def test_bad_answers_are_named_answers_dot_question_id(
    event_with_questions, post_registration, registration_body, counts, position, value
):
    event = event_with_questions()
    answers = answers_for(event, q0="Köln")
    answers[str(event.questions[position].id)] = value

    response = post_registration(event, registration_body(answers=answers))

    assert response.status_code == 422
    assert f"answers.{event.questions[position].id}" in response.get_json()["fields"]
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"{'name': 'single quotes'}",
        b'{"consent": NaN}',
        b'{"guests": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"guests": 1' + b"0" * 5000 + b"}",
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_json_is_a_400_and_stores_nothing(make_event, post_registration, counts, data):
    event = make_event()

    response = post_registration(event, None, json=None, data=data, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert counts() == (0, 0)


@pytest.mark.parametrize("body", [[], "text", None, 42, True, [{"name": "x"}]])
def test_json_that_is_not_an_object_is_a_400(make_event, post_registration, counts, body):
    event = make_event()

    response = post_registration(
        event, None, json=None, data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_declared_json_is_a_415(
    make_event, post_registration, registration_body, counts, content_type
):
    event = make_event()
    kwargs = {"data": json.dumps(registration_body())}
    if content_type:
        kwargs["content_type"] = content_type

    response = post_registration(event, None, json=None, **kwargs)

    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"
    assert counts() == (0, 0)


def test_a_body_over_one_mebibyte_is_a_413_in_json(
    make_event, post_registration, registration_body, counts
):
    event = make_event()
    body = registration_body(name="x" * (1024 * 1024))

    response = post_registration(event, body)

    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert counts() == (0, 0)


def test_the_json_charset_parameter_is_accepted(make_event, post_registration, registration_body):
    event = make_event()

    response = post_registration(
        event,
        None,
        json=None,
        data=json.dumps(registration_body()).encode(),
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 201


# -- reading ------------------------------------------------------------------


def test_a_confirmed_registration_shows_everything_including_the_online_link(
    api, event_with_questions, post_registration, registration_body
):
    event = event_with_questions(online_url="https://meet.example.org/secret-room")
    created = post_registration(
        event, registration_body(name="Amina Yusuf", answers=answers_for(event, q0="Köln"))
    ).get_json()

    response = api.get(f"/api/v1/registrations/{created['manage_token']}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["name"] == "Amina Yusuf"
    assert body["language"] == "en"
    assert body["guests"] == 0
    assert body["waitlist_position"] is None
    assert body["online_url"] == "https://meet.example.org/secret-room"
    assert body["can_be_cancelled"] is True
    assert body["event"]["slug"] == event.slug
    assert body["event"]["title"] == event.text("en").title
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)


def test_a_waitlisted_registration_shows_its_position_and_no_online_link(
    api, make_event, make_registration, post_registration, registration_body
):
    event = make_event(capacity=1, online_url="https://meet.example.org/secret-room")
    make_registration(event)
    created = post_registration(event, registration_body()).get_json()

    response = api.get(f"/api/v1/registrations/{created['manage_token']}")

    assert response.get_json()["status"] == "waitlisted"
    assert response.get_json()["waitlist_position"] == 1
    assert response.get_json()["online_url"] is None
    assert b"secret-room" not in response.data


@pytest.mark.parametrize("token", ["x" * 43, "short", "a%00" * 20, "ü" * 43, "A" * 500])
def test_an_unknown_or_odd_token_is_a_json_404_for_reading_and_cancelling(api, token, counts):
    for method in ("GET", "DELETE"):
        response = api.open(method, f"/api/v1/registrations/{token}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_a_link_expires_some_time_after_the_event(
    api, app, make_event, post_registration, registration_body
):
    event = make_event()
    token = post_registration(event, registration_body()).get_json()["manage_token"]
    grace = app.config["MANAGE_LINK_GRACE_DAYS"]
    event.starts_at, event.ends_at = in_days(-grace - 3), in_days(-grace - 2)
    db.session.commit()

    assert api.get(f"/api/v1/registrations/{token}").status_code == 404


# -- cancelling -----------------------------------------------------------------


def test_cancelling_frees_the_seat_and_promotes_the_first_on_the_waitlist(
    api, make_event, post_registration, registration_body, outbox
):
    event = make_event(capacity=1, online_url="https://meet.example.org/room")
    first, second, third = (
        post_registration(event, registration_body()).get_json()["manage_token"] for _ in range(3)
    )

    response = api.delete(f"/api/v1/registrations/{first}")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["online_url"] is None
    assert response.get_json()["can_be_cancelled"] is False
    promoted = api.get(f"/api/v1/registrations/{second}").get_json()
    assert promoted["status"] == "confirmed"
    assert promoted["online_url"] == "https://meet.example.org/room"
    assert api.get(f"/api/v1/registrations/{third}").get_json()["waitlist_position"] == 1
    kinds = [row.kind for row in outbox()]
    assert MessageKind.REGISTRATION_CANCELLED in kinds
    assert MessageKind.WAITLIST_PROMOTED in kinds


def test_cancelling_twice_is_harmless(
    api, make_event, post_registration, registration_body, counts
):
    event = make_event()
    token = post_registration(event, registration_body()).get_json()["manage_token"]
    api.delete(f"/api/v1/registrations/{token}")
    before = counts()

    again = api.delete(f"/api/v1/registrations/{token}")

    assert again.status_code == 200
    assert again.get_json()["status"] == "cancelled"
    assert counts() == before
    assert api.get(f"/api/v1/registrations/{token}").get_json()["status"] == "cancelled"


def test_cancelling_after_the_event_started_is_a_409(
    api, make_event, post_registration, registration_body, counts
):
    event = make_event()
    token = post_registration(event, registration_body()).get_json()["manage_token"]
    event.starts_at, event.ends_at = in_days(-0.1), in_days(0.1)
    db.session.commit()
    before = counts()

    response = api.delete(f"/api/v1/registrations/{token}")

    assert response.status_code == 409
    assert response.get_json()["error"] == "not_changeable"
    assert counts() == before
    assert api.get(f"/api/v1/registrations/{token}").get_json()["status"] == "confirmed"
