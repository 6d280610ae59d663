"""Arbitrary text in the staff forms: never a 500, never a half-written record."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditEntry, Event, EventStatus, Organisation, User
from outreach.services.review import submit

anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.builds(
        lambda piece, times: (piece or "x") * times, st.text(max_size=4), st.integers(50, 3000)
    ),
    st.sampled_from(["\x00", "a\x00b", "\r\n", "\u202e", "\ufeff", "🙂" * 300, "https://", "-"]),
)
ORGANISATION_FIELDS = [
    "name",
    "slug",
    "website",
    "contact_email",
    "description_de",
    "description_en",
]
_names = itertools.count()
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def staff(make_user, login):
    user = db.session.scalar(select(User).where(User.email == "fuzz-staff@example.org"))
    user = user or make_user("staff", email="fuzz-staff@example.org")
    login(user)
    return user


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)))


@FUZZ
@given(garbled=st.dictionaries(st.sampled_from(ORGANISATION_FIELDS), anything, max_size=3))
def test_any_organisation_form_is_saved_whole_or_refused(client, staff, garbled):
    data = {"name": f"Fuzz Verein {next(_names)}", "website": "https://example.org"}
    data.update(garbled)
    organisations, entries = _count(Organisation), _count(AuditEntry)

    response = client.post("/staff/organisations/new", data=data)

    assert response.status_code < 500
    if _count(Organisation) > organisations:
        assert response.status_code == 303
        assert _count(AuditEntry) == entries + 1
    else:
        assert response.status_code == 422
        assert _count(AuditEntry) == entries


@FUZZ
@given(reason=anything, comment=anything)
def test_any_reason_or_comment_is_taken_whole_or_refused(
    client, staff, make_event, make_org, make_user, reason, comment
):
    org = make_org()
    draft = make_event(status=EventStatus.DRAFT, hosts=[org])
    submitted = submit(draft, by=make_user("partner", org=org))
    published = make_event(hosts=[org])

    sent_back = client.post(
        f"/staff/events/{submitted.id}/request-changes", data={"comment": comment}
    )
    cancelled = client.post(f"/staff/events/{published.id}/cancel", data={"reason": reason})

    db.session.rollback()
    assert sent_back.status_code in (303, 422)
    assert cancelled.status_code in (303, 422)
    status = {sent_back.status_code: EventStatus.DRAFT, 422: EventStatus.SUBMITTED}
    assert db.session.get(Event, submitted.id).status is status[sent_back.status_code]
    expected = EventStatus.CANCELLED if cancelled.status_code == 303 else EventStatus.PUBLISHED
    assert db.session.get(Event, published.id).status is expected


@pytest.mark.parametrize("text", ["a\x00b", "Zeile\u202eeins", "\x07"])
def test_control_characters_in_a_reason_or_comment_are_refused(
    client, staff, make_event, make_org, make_user, text
):
    org = make_org()
    submitted = submit(
        make_event(status=EventStatus.DRAFT, hosts=[org]), by=make_user("partner", org=org)
    )
    published = make_event(hosts=[org])

    sent_back = client.post(f"/staff/events/{submitted.id}/request-changes", data={"comment": text})
    cancelled = client.post(f"/staff/events/{published.id}/cancel", data={"reason": text})

    assert (sent_back.status_code, cancelled.status_code) == (422, 422)


def test_line_breaks_and_joiners_are_fine_in_a_reason(client, staff, make_event):
    event = make_event()

    response = client.post(
        f"/staff/events/{event.id}/cancel", data={"reason": "Erste Zeile\r\nمی\u200cخواهم"}
    )

    assert response.status_code == 303


@FUZZ
@given(email=anything, name=anything)
def test_any_invitation_creates_one_user_or_none(client, staff, make_org, email, name):
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "fuzz-invite"))
    org = org or make_org(slug="fuzz-invite")
    users = _count(User)

    response = client.post(
        f"/staff/organisations/{org.id}/invite", data={"email": email, "name": name}
    )

    assert response.status_code in (303, 422)
    assert _count(User) == users + (1 if response.status_code == 303 else 0)
