"""Retention in the workspaces: the staff-only setting, and anonymised people on the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, QuestionKind, utcnow
from outreach.services import retention
from tests.web.html import page
from tests.web.test_partner_workspace import proposal

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff")
    login(user)
    return user


def only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))


def test_staff_see_the_setting_with_the_default_in_its_hint(client, staff):
    html = page(client.get("/staff/events/new?lang=en"))

    field = html.one("input", id="retention_days")
    assert field.attrs["type"] == "number"
    assert "usual 90 days" in html.one("p", id="retention_days-hint").text


def test_partners_do_not_see_the_setting(client, make_user, login):
    login(make_user("partner"))

    html = page(client.get("/partner/events/new?lang=en"))

    assert not html.all("input", id="retention_days")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3651", "Please enter a number of days from 0 to 3650"),
        ("-1", "Please enter a number of days from 0 to 3650"),
        ("two weeks", "Please enter a whole number of days, or leave it empty."),
    ],
)
def test_a_wrong_period_is_a_field_error_and_nothing_is_saved(
    client, staff, make_org, value, message
):
    lead = make_org(is_host=True)

    response = client.post(
        "/staff/events/new?lang=en",
        data=proposal(lead_host=str(lead.id), then="draft", retention_days=value),
    )

    assert response.status_code == 422
    html = page(response)
    assert message in html.one("p", id="retention_days-error").text
    assert html.one("div", class_="error-summary").one("a", href="#retention_days")
    assert only_event() is None


@pytest.mark.parametrize(("value", "stored"), [("0", 0), ("365", 365), ("", None)])
def test_staff_save_the_period(client, staff, make_org, value, stored):
    lead = make_org(is_host=True)

    response = client.post(
        "/staff/events/new",
        data=proposal(lead_host=str(lead.id), then="draft", retention_days=value),
    )

    assert response.status_code == 303
    assert only_event().retention_days == stored


def test_a_partner_posting_the_field_anyway_changes_nothing(client, make_user, login):
    partner = make_user("partner")
    login(partner)

    response = client.post("/partner/events/new", data=proposal(retention_days="0"))

    assert response.status_code == 303
    assert only_event().retention_days is None


# -- after anonymising --------------------------------------------------------------------


@pytest.fixture
def past_event(make_event, make_registration):
    ends_at = NOW - timedelta(days=100)
    event = make_event(
        starts_at=ends_at - timedelta(hours=2),
        ends_at=ends_at,
        questions=[{"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Diät", "en": "Diet"}}],
    )
    make_registration(
        event,
        now=ends_at - timedelta(days=10),
        name="Amina Diallo",
        email="amina@example.org",
        answers={str(event.questions[0].id): "vegetarisch"},
    )
    return event


def test_the_staff_event_page_says_when_registrations_go_and_went(client, staff, past_event):
    due = (past_event.ends_at + timedelta(days=90)).astimezone(past_event.zone)

    before = page(client.get(f"/staff/events/{past_event.id}?lang=en")).text
    assert "The registrations will be anonymised on" in before
    assert str(due.year) in before

    retention.purge(NOW)

    after = page(client.get(f"/staff/events/{past_event.id}?lang=en")).text
    assert "The registrations were anonymised on" in after
    assert "anonymised the registrations" in after  # the history


def test_the_desk_shows_anonymised_people_as_anonymised(client, staff, past_event):
    retention.purge(NOW)

    html = page(client.get(f"/desk/events/{past_event.id}/registrations?lang=en"))

    [row] = html.one("tbody").all("tr")
    assert row.one("th").text == "Anonymised"
    assert not row.all("a", href="mailto:")
    assert "anonymised.invalid" not in html.text and "vegetarisch" not in html.text
    csv = client.get(f"/desk/events/{past_event.id}/registrations.csv?lang=en")
    text = csv.get_data().decode("utf-8-sig")
    assert "Anonymised" in text
    assert "anonymised.invalid" not in text and "amina" not in text.lower()
