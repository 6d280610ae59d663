"""Arbitrary text in every registration field: never a 500, never half stored."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, OutboxMessage, Registration

QUESTIONS = [
    {"kind": "short_text", "required": True, "label": {"en": "Role"}},
    {"kind": "long_text", "label": {"en": "Needs"}},
    {
        "kind": "single_choice",
        "label": {"en": "Interpreting"},
        "options": [{"value": "none", "label": {"en": "None"}}, {"value": "ar", "label": {}}],
    },
    {
        "kind": "multiple_choice",
        "label": {"en": "Food"},
        "options": [{"value": "vegan", "label": {}}, {"value": "halal", "label": {}}],
    },
    {"kind": "checkbox", "required": True, "label": {"en": "I agree to bring snacks"}},
]

# Any text at all: control characters, odd scripts, now and then something huge.
anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    # Huge strings (up to past the 1 MB request limit) cost little built by repetition.
    st.builds(
        lambda piece, times: (piece or "x") * times, st.text(max_size=4), st.integers(500, 300_000)
    ),
    st.sampled_from(["\x00", "\r\n", "\u202e", "\ufeff", "🙂" * 300, "1" * 5000, "-1", "١٢"]),
)
_addresses = itertools.count()
FIELDS = ["name", "email", "language", "guests", "consent", "q0", "q1", "q2", "q3", "q4"]

# Each example garbles a few fields (none, sometimes) and may leave some out;
# the rest hold valid values, so both outcomes are exercised.
examples = st.fixed_dictionaries(
    {
        "garbled": st.dictionaries(
            st.sampled_from(FIELDS), st.one_of(anything, st.lists(anything, max_size=3))
        ),
        "missing": st.sets(st.sampled_from(FIELDS), max_size=2),
        "guests": st.sampled_from(["0", "1", "2", ""]),
        "choices": st.lists(st.sampled_from(["vegan", "halal"]), max_size=2),
    }
)


def _rows() -> tuple[set[int], set[int]]:
    db.session.rollback()
    return (
        set(db.session.scalars(select(Registration.id))),
        set(db.session.scalars(select(OutboxMessage.id))),
    )


def _post_data(example: dict, question_ids: list[int]) -> dict:
    data: dict = {
        "name": "Fuzz Person",
        "email": f"fuzz{next(_addresses)}@example.org",
        "language": "de",
        "guests": example["guests"],
        "consent": "y",
        "q0": "Teacher",
        "q1": "",
        "q2": "ar",
        "q3": example["choices"],
        "q4": "y",
    }
    data.update(example["garbled"])
    for name in example["missing"]:
        data.pop(name, None)
    return {
        f"q_{question_ids[int(key[1:])]}" if key.startswith("q") else key: value
        for key, value in data.items()
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(example=examples)
def test_arbitrary_form_input_never_fails_and_never_half_stores(client, make_event, example):
    fuzz_event = _event(make_event)
    question_ids = [question.id for question in fuzz_event.questions]
    registrations_before, messages_before = _rows()

    response = client.post(f"/events/{fuzz_event.slug}", data=_post_data(example, question_ids))

    registrations_after, messages_after = _rows()
    new_registrations = registrations_after - registrations_before
    new_messages = messages_after - messages_before
    assert response.status_code < 500
    event(f"status {response.status_code}")
    if new_registrations:
        assert response.status_code == 303
        assert len(new_registrations) == 1
        [message_id] = new_messages
        message = db.session.get(OutboxMessage, message_id)
        assert message.registration_id in new_registrations
    else:
        assert response.status_code in {400, 413, 422}
        assert new_messages == set()


def _event(make_event) -> Event:
    """The one event of this test, made on the first example and reused after."""
    found = db.session.scalar(select(Event).where(Event.slug == "fuzz"))
    return found or make_event(slug="fuzz", capacity=None, max_guests=2, questions=QUESTIONS)
