"""Property tests: whatever arrives, the API answers a documented 4xx or success, in JSON.

Never a 5xx, and nothing half-stored: a 201 adds exactly one registration and
one outbox row, a 202 (already registered) adds no registration, any 4xx adds
nothing. Each response is also checked against the OpenAPI document by the
``api`` fixture.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

FUZZ_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, lone surrogates and control characters included.
any_char = st.characters(codec=None, exclude_categories=())
odd_text = st.one_of(
    st.text(),
    st.text(any_char, max_size=50),
    st.text(st.characters(max_codepoint=0x1F), max_size=20),
    st.sampled_from(["", " ", "\u202e", "\ufeff", "\x00", "NaN", "null", "0", "true"]),
)
# Huge strings cost little to generate this way: a short piece, repeated.
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.text(any_char, min_size=1, max_size=3),
    st.integers(min_value=200, max_value=400_000),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
    huge_text,
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4)
    ),
    max_leaves=12,
)
fresh_emails = st.uuids().map(lambda uuid: f"p{uuid.hex[:12]}@example.org")
known_emails = st.sampled_from(["amina@example.org", " Amina@Example.org", "kemal@example.org"])
odd_emails = st.one_of(st.emails(), odd_text)


@st.composite
def valid_bodies(draw, question_ids: list[str]) -> dict[str, Any]:
    """A registration the service accepts (or a repeat of an earlier address)."""
    town, access, interpretation, food, photos = question_ids
    return {
        "name": draw(st.sampled_from(["Amina Yusuf", "Олена Коваль", "  Kemal  Öztürk "])),
        "email": draw(st.one_of(fresh_emails, fresh_emails, fresh_emails, known_emails)),
        "language": draw(st.sampled_from(["de", "en"])),
        "guests": draw(st.integers(0, 2)),
        "answers": {
            town: draw(st.sampled_from(["Köln", " Halle (Saale) "])),
            access: draw(st.sampled_from([None, "", "Rollstuhl", "Zeile 1\nZeile 2"])),
            interpretation: draw(st.sampled_from([None, "ar", "uk"])),
            food: draw(st.sampled_from([None, [], ["vegan"], ["halal", "vegan"]])),
            photos: draw(st.booleans()),
        },
        "consent": True,
    }


@st.composite
def spoiled_bodies(draw, question_ids: list[str]) -> dict[str, Any]:
    """A valid registration with one or more fields dropped, replaced or added."""
    body = draw(valid_bodies(question_ids))
    targets = [*body, "answers.*", "extra"]
    for target in draw(st.sets(st.sampled_from(targets), min_size=1, max_size=3)):
        if target == "extra":
            body.update(draw(st.dictionaries(odd_text, json_values, min_size=1, max_size=2)))
        elif target == "answers.*":
            key = draw(st.one_of(st.sampled_from([*question_ids, "0", "-1"]), odd_text))
            answers = body.get("answers")
            body["answers"] = {
                **(answers if isinstance(answers, dict) else {}),
                key: draw(json_values),
            }
        elif target == "email":
            body["email"] = draw(odd_emails)
        elif draw(st.booleans()):
            del body[target]
        else:
            body[target] = draw(json_values)
    return body


def registration_bodies(question_ids: list[str]) -> st.SearchStrategy:
    return st.one_of(valid_bodies(question_ids), spoiled_bodies(question_ids))


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def test_posting_arbitrary_json_never_fails_and_never_half_stores(
    api, event_with_questions, counts
):
    open_event = event_with_questions(capacity=3, max_guests=2)
    question_ids = [str(question.id) for question in open_event.questions]
    url = f"/api/v1/events/{open_event.slug}/registrations"

    @FUZZ_SETTINGS
    @given(
        payload=st.one_of(
            registration_bodies(question_ids).map(_encode),
            st.binary(max_size=200),
            json_values.map(_encode),
        ),
        content_type=st.one_of(
            st.just("application/json"),
            st.sampled_from(["application/json; charset=utf-8", "text/plain", None]),
        ),
    )
    def check(payload: bytes, content_type: str | None):
        before = counts()
        kwargs: dict[str, Any] = {"data": payload}
        if content_type:
            kwargs["content_type"] = content_type

        response = api.post(url, **kwargs)

        after = counts()
        event(f"status {response.status_code}")  # see --hypothesis-show-statistics
        assert response.status_code < 500
        assert isinstance(response.get_json(), dict)
        if response.status_code == 201:
            assert after == (before[0] + 1, before[1] + 1)
        elif response.status_code == 202:
            assert after[0] == before[0]
            assert after[1] - before[1] in (0, 1)
        else:
            assert 400 <= response.status_code < 500
            assert after == before

    check()


path_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=80)


def test_reading_and_cancelling_with_arbitrary_addresses_never_fails(api, make_event, counts):
    known_event = make_event()

    @FUZZ_SETTINGS
    @given(
        kind=st.sampled_from(["event", "registration-get", "registration-delete", "list"]),
        text=path_text,
        query=st.dictionaries(
            st.sampled_from(["topic", "language", "format", "host", "page", "per_page", "x"]),
            st.text(st.characters(codec="utf-8"), max_size=30),
            max_size=4,
        ),
    )
    def check(kind: str, text: str, query: dict[str, str]):
        before = counts()
        segment = quote(text, safe="")
        if kind == "event":
            response = api.get(f"/api/v1/events/{segment}")
            assert response.status_code in (200, 404)
        elif kind == "list":
            response = api.get("/api/v1/events", query_string=query)
            assert response.status_code in (200, 422)
        else:
            method = "GET" if kind == "registration-get" else "DELETE"
            response = api.open(method, f"/api/v1/registrations/{segment}")
            assert response.status_code == 404
        assert isinstance(response.get_json(), dict)
        assert counts() == before

    check()
    assert api.get(f"/api/v1/events/{known_event.slug}").status_code == 200
