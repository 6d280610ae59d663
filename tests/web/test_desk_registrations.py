"""The registration list, its exports, and the staff actions on it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from outreach.extensions import db
from outreach.models import MessageKind, QuestionKind, RegistrationStatus, utcnow
from outreach.services import audit
from outreach.services.errors import NotEnoughSeats
from outreach.services.registrations import NotWaitlisted, promote_manually
from outreach.services.tokens import registration_for_token
from tests.web.html import page

QUESTIONS = [
    dict(
        kind=QuestionKind.SINGLE_CHOICE,
        label={"de": "Verdolmetschung", "en": "Interpretation"},
        options=[
            {"value": "none", "label": {"de": "Keine", "en": "None"}},
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        ],
    ),
    dict(kind=QuestionKind.SHORT_TEXT, label={"de": "Telefon", "en": "Phone"}),
]
EN = {"Accept-Language": "en"}


@pytest.fixture
def host_org(make_org):
    return make_org()


@pytest.fixture
def event(make_event, host_org):
    return make_event(
        slug="elternabend", hosts=[host_org], capacity=3, max_guests=1, questions=QUESTIONS
    )


def _answers(event, interpretation=None, phone=None) -> dict:
    first, second = (str(q.id) for q in event.questions)
    return {k: v for k, v in {first: interpretation, second: phone}.items() if v}


@pytest.fixture
def people(event, make_registration):
    amina = make_registration(
        event,
        name="Amina Diallo",
        email="amina@example.org",
        guests=1,
        answers=_answers(event, "ar"),
    ).registration
    jorg = make_registration(
        event, name="Jörg Özdemir", email="joerg@example.org", answers=_answers(event, "none")
    ).registration
    bo = make_registration(event, name="Bo Berg", email="bo@example.org").registration
    return {"amina": amina, "jorg": jorg, "bo": bo}


def test_the_list_shows_counts_people_and_their_answers(client, login, make_user, event, people):
    login(make_user("partner", org=event.hosts[0]))

    response = client.get(f"/desk/events/{event.id}/registrations?lang=en")

    assert response.status_code == 200
    html = page(response)
    counts = html.by_id("counts").text
    assert "Confirmed 3 2 registrations, 1 guest; 3 seats in all" in counts
    assert "On the waitlist 1" in counts and "Checked in 0" in counts
    rows = html.one("tbody").all("tr")
    assert [row.one("th").text for row in rows] == ["Amina Diallo", "Jörg Özdemir", "Bo Berg"]
    assert "Interpretation Arabic" in rows[0].text
    assert "On the waitlist" in rows[2].text
    assert html.all("a", href=f"/desk/events/{event.id}/registrations.csv")
    assert html.all("a", href=f"/desk/events/{event.id}/registrations.xlsx")
    assert not html.all(
        "form", action=f"/desk/events/{event.id}/registrations/{people['bo'].id}/promote"
    )
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_staff_see_the_actions_for_each_person(client, login, make_user, event, people):
    login(make_user("staff"))
    base = f"/desk/events/{event.id}/registrations"

    html = page(client.get(f"{base}?lang=en"))

    assert html.all("form", action=f"{base}/{people['bo'].id}/promote")
    assert not html.all("form", action=f"{base}/{people['amina'].id}/promote")
    assert html.all("a", href=f"{base}/{people['amina'].id}/cancel")


def test_search_and_status_filter_narrow_the_list(client, login, make_user, event, people):
    login(make_user("staff"))
    base = f"/desk/events/{event.id}/registrations"

    def names(query: str) -> list[str]:
        html = page(client.get(f"{base}?lang=en&{query}"))
        return [row.one("th").text for row in html.all("tr") if row.all("th", scope="row")]

    assert names("q=OZDEMIR") == ["Jörg Özdemir"]
    assert names("q=example.org&status=waitlisted") == ["Bo Berg"]
    assert names("status=confirmed") == ["Amina Diallo", "Jörg Özdemir"]
    assert names("status=bogus") == ["Amina Diallo", "Jörg Özdemir", "Bo Berg"]
    nothing = page(client.get(f"{base}?lang=en&q=nobody"))
    assert "No registration matches your search." in nothing.text


def test_an_event_without_registrations_says_so(client, login, make_user, event):
    login(make_user("staff"))

    html = page(client.get(f"/desk/events/{event.id}/registrations?lang=en"))

    assert "Nobody has registered yet." in html.one(class_="empty-state").text
    assert not html.all("table")


def test_csv_export_is_an_audited_attachment_that_excel_reads(
    client, login, make_user, event, make_registration
):
    make_registration(
        event,
        name='=HYPERLINK("http://x")',
        email="eve@example.org",
        answers=_answers(event, "ar", "+49 30 1234"),
    )
    host = make_user("partner", org=event.hosts[0])
    login(host)

    response = client.get(f"/desk/events/{event.id}/registrations.csv?lang=en")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="elternabend-registrations.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert header[-2:] == ["Interpretation", "Phone"]
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[-2:] == ["Arabic", "'+49 30 1234"]
    [entry] = audit.entries_for(event)
    assert (entry.action, entry.comment, entry.actor_id) == (
        "event.registrations_exported",
        "csv",
        host.id,
    )


def test_xlsx_export_opens_with_openpyxl(client, login, make_user, event, people):
    login(make_user("staff"))

    response = client.get(f"/desk/events/{event.id}/registrations.xlsx?lang=en")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('registrations.xlsx"')
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Name", "Email address", "Status")
    assert [row[0] for row in rows[1:]] == ["Amina Diallo", "Jörg Özdemir", "Bo Berg"]
    assert audit.entries_for(event)[0].comment == "xlsx"


# -- moving someone up by hand -------------------------------------------------------------------


def test_staff_give_a_waitlisted_person_a_seat_and_they_are_told(
    client, login, make_user, event, people, outbox
):
    staff = make_user("staff")
    login(staff)
    bo = people["bo"]
    event.capacity = 4
    db.session.commit()

    response = client.post(f"/desk/events/{event.id}/registrations/{bo.id}/promote")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/desk/events/{event.id}/registrations"
    db.session.refresh(bo)
    assert bo.status is RegistrationStatus.CONFIRMED and bo.promoted_at is not None
    [told] = outbox(kind=MessageKind.WAITLIST_PROMOTED)
    assert told.recipient == "bo@example.org"
    assert registration_for_token(told.payload["token"], grace_days=1) is bo
    [entry] = audit.entries_for(bo)
    assert (entry.action, entry.actor_id) == ("registration.promoted", staff.id)
    assert entry.changes == {"status": ["waitlisted", "confirmed"]}
    assert "Bo Berg" in page(client.get(response.headers["Location"] + "?lang=en")).text


def test_a_seat_is_given_only_if_the_party_fits(client, login, make_user, event, people, outbox):
    login(make_user("staff"))
    bo = people["bo"]

    response = client.post(f"/desk/events/{event.id}/registrations/{bo.id}/promote?lang=en")

    assert response.status_code == 409
    assert "not enough seats" in page(response).one(class_="notice--error").text
    db.session.refresh(bo)
    assert bo.status is RegistrationStatus.WAITLISTED
    assert outbox(kind=MessageKind.WAITLIST_PROMOTED) == []
    assert audit.entries_for(bo) == []


def test_promotion_by_hand_skips_the_queue_but_not_capacity(
    make_event, make_registration, make_user
):
    event = make_event(capacity=1, max_guests=2)
    make_registration(event)
    first_in_line = make_registration(event, guests=2).registration
    second_in_line = make_registration(event, guests=0).registration
    event.capacity = 2  # one seat more, and nobody moved up yet
    db.session.commit()
    staff = make_user("staff")

    with pytest.raises(NotEnoughSeats):
        promote_manually(first_in_line, by=staff)
    promote_manually(second_in_line, by=staff)
    with pytest.raises(NotWaitlisted):
        promote_manually(second_in_line, by=staff)

    db.session.refresh(first_in_line)
    assert first_in_line.status is RegistrationStatus.WAITLISTED
    assert second_in_line.status is RegistrationStatus.CONFIRMED


# -- cancelling for someone ----------------------------------------------------------------------


def test_cancelling_for_someone_asks_first(client, login, make_user, event, people):
    login(make_user("staff"))
    amina = people["amina"]
    url = f"/desk/events/{event.id}/registrations/{amina.id}/cancel"

    html = page(client.get(f"{url}?lang=en"))

    assert html.one("h1").text == "Cancel the registration of Amina Diallo?"
    assert html.one("form", action=url).attrs["method"] == "post"
    db.session.refresh(amina)
    assert amina.status is RegistrationStatus.CONFIRMED


def test_cancelling_for_someone_promotes_the_waitlist_and_is_audited(
    client, login, make_user, event, people, outbox
):
    staff = make_user("staff")
    login(staff)
    amina, bo = people["amina"], people["bo"]

    response = client.post(f"/desk/events/{event.id}/registrations/{amina.id}/cancel", headers=EN)

    assert response.status_code == 303
    db.session.refresh(amina)
    db.session.refresh(bo)
    assert amina.status is RegistrationStatus.CANCELLED
    assert bo.status is RegistrationStatus.CONFIRMED
    assert [m.recipient for m in outbox(kind=MessageKind.REGISTRATION_CANCELLED)] == [
        "amina@example.org"
    ]
    assert [m.recipient for m in outbox(kind=MessageKind.WAITLIST_PROMOTED)] == ["bo@example.org"]
    [entry] = audit.entries_for(amina)
    assert (entry.action, entry.actor_id) == ("registration.cancelled", staff.id)
    assert entry.changes == {"status": ["confirmed", "cancelled"]}
    flashes = page(client.get(response.headers["Location"], headers=EN)).one(class_="flashes").text
    assert "Amina Diallo" in flashes and "1 person moved up" in flashes


def test_a_registration_of_a_started_event_cannot_be_cancelled(
    client, login, make_user, event, people
):
    login(make_user("staff"))
    event.starts_at = utcnow() - timedelta(minutes=5)
    event.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    url = f"/desk/events/{event.id}/registrations/{people['amina'].id}/cancel"

    assert not page(client.get(url)).all("form", action=url)
    response = client.post(f"{url}?lang=en")

    assert response.status_code == 409
    assert "can no longer be changed" in page(response).text
    db.session.refresh(people["amina"])
    assert people["amina"].status is RegistrationStatus.CONFIRMED
