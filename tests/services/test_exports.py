"""The registration list and its exports: the right columns, safe cells, every export audited."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditEntry, QuestionKind, RegistrationStatus
from outreach.services import audit
from outreach.services.checkin import check_in
from outreach.services.exports import (
    NotExportable,
    export_registrations,
    find_registrations,
    neutralised,
    registration_counts,
    registration_table,
    to_csv,
    to_xlsx,
)
from outreach.services.registrations import cancel_registration

QUESTIONS = [
    dict(
        kind=QuestionKind.SINGLE_CHOICE,
        label={"de": "Verdolmetschung", "en": "Interpretation"},
        options=[
            {"value": "none", "label": {"de": "Keine", "en": "None"}},
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        ],
    ),
    dict(kind=QuestionKind.CHECKBOX, label={"de": "Kinderbetreuung", "en": "Childcare"}),
    dict(kind=QuestionKind.SHORT_TEXT, label={"de": "Telefon", "en": "Phone"}),
]


@pytest.fixture
def event(make_event):
    return make_event(slug="elternabend", capacity=10, max_guests=2, questions=QUESTIONS)


def _answers(event, interpretation=None, childcare=None, phone=None) -> dict:
    first, second, third = (str(q.id) for q in event.questions)
    given = {first: interpretation, second: childcare, third: phone}
    return {key: value for key, value in given.items() if value is not None}


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_opens_with_a_bom_and_has_a_column_per_question(event, make_registration):
    make_registration(
        event,
        name="Amina Diallo",
        email="amina@example.org",
        guests=2,
        language="en",
        answers=_answers(event, "ar", True, '030 1234, ask for "Ami"'),
    )

    header, row = _csv_rows(to_csv(registration_table(event, "en")))

    assert header == [
        "Name",
        "Email address",
        "Status",
        "Guests",
        "Language",
        "Registered at",
        "Checked in at",
        "Interpretation",
        "Childcare",
        "Phone",
    ]
    assert row[:5] == ["Amina Diallo", "amina@example.org", "Confirmed", "2", "English"]
    assert row[7:] == ["Arabic", "Yes", '030 1234, ask for "Ami"']


def test_headings_and_answers_follow_the_viewers_language(event, make_registration):
    make_registration(event, answers=_answers(event, "none"))

    header, row = _csv_rows(to_csv(registration_table(event, "de")))

    assert header[1] == "E-Mail-Adresse"
    assert header[7:] == ["Verdolmetschung", "Kinderbetreuung", "Telefon"]
    assert row[7:] == ["Keine", "Nein", ""]


def test_times_are_shown_in_the_events_zone(event, make_registration, make_user):
    outcome = make_registration(event)
    check_in(outcome.registration, by=make_user("staff"))

    [_, row] = _csv_rows(to_csv(registration_table(event, "en")))

    registered = outcome.registration.created_at.astimezone(event.zone)
    assert row[5] == registered.strftime("%Y-%m-%d %H:%M")
    assert row[6] == outcome.registration.checked_in_at.astimezone(event.zone).strftime(
        "%Y-%m-%d %H:%M"
    )


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://evil")', "+49 30 1234", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(value):
    assert neutralised(value) == "'" + value


@pytest.mark.parametrize("value", ["Amina", "a=b", "", 3, -1])
def test_ordinary_cells_are_left_alone(value):
    assert neutralised(value) == value


def test_formula_cells_are_neutralised_in_both_exports(event, make_registration):
    make_registration(
        event, name="=cmd|' /C calc'!A0", answers=_answers(event, phone="+49 30 1234")
    )
    table = registration_table(event, "en")

    [_, csv_row] = _csv_rows(to_csv(table))
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    xlsx_row = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2))]

    assert csv_row[0] == "'=cmd|' /C calc'!A0"
    assert csv_row[9] == "'+49 30 1234"
    assert xlsx_row[0].value == "'=cmd|' /C calc'!A0" and xlsx_row[0].data_type == "s"
    assert xlsx_row[9].value == "'+49 30 1234"


def test_xlsx_opens_with_openpyxl_with_the_same_columns(event, make_registration):
    make_registration(event, name="Jörg Özdemir", guests=1, answers=_answers(event, "ar", True))
    make_registration(event, name="Bo Berg")
    table = registration_table(event, "en")

    workbook = load_workbook(io.BytesIO(to_xlsx(table)))
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]

    assert workbook.active.title == "Registrations"
    assert rows[0] == table.headers
    assert rows[1][:4] == ["Jörg Özdemir", table.rows[0][1], "Confirmed", 1]
    assert rows[1][7:9] == ["Arabic", "Yes"]
    assert rows[2][0] == "Bo Berg"
    assert len(rows) == 3


def test_every_export_is_audited_with_its_format(event, make_registration, make_user):
    make_registration(event)
    staff = make_user("staff")

    csv_file = export_registrations(event, "csv", by=staff, locale="en")
    xlsx_file = export_registrations(event, "xlsx", by=staff, locale="de")

    assert csv_file.filename == "elternabend-registrations.csv"
    assert csv_file.media_type.startswith("text/csv")
    assert xlsx_file.filename == "elternabend-registrations.xlsx"
    entries = [e for e in audit.entries_for(event) if e.action == "event.registrations_exported"]
    assert [(e.comment, e.actor_id, e.changes) for e in entries] == [
        ("xlsx", staff.id, {"rows": [None, 1]}),
        ("csv", staff.id, {"rows": [None, 1]}),
    ]


def test_a_partner_of_another_organisation_gets_no_export(event, make_registration, make_user):
    make_registration(event)
    outsider = make_user("partner")

    with pytest.raises(NotExportable):
        export_registrations(event, "csv", by=outsider, locale="en")

    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_host_partners_may_export(event, make_registration, make_user):
    make_registration(event)
    host = make_user("partner", org=event.hosts[0])

    assert export_registrations(event, "csv", by=host, locale="en").content


def test_search_ignores_case_and_accents_and_needs_every_word(make_event, make_registration):
    event = make_event()
    make_registration(event, name="Jörg Özdemir", email="joerg@example.org")
    make_registration(event, name="Amina Diallo", email="amina@verein.example")
    make_registration(event, name="Jorge Amado", email="ja@example.org")

    def names(search: str) -> list[str]:
        return [r.name for r in find_registrations(event, search=search)]

    assert names("ozdemir") == ["Jörg Özdemir"]
    assert names("JOR") == ["Jörg Özdemir", "Jorge Amado"]
    assert names("jor ama") == ["Jorge Amado"]
    assert names("verein") == ["Amina Diallo"]
    assert names("") == ["Jörg Özdemir", "Amina Diallo", "Jorge Amado"]
    assert names("nobody") == []


def test_counts_by_status_with_guests_and_arrivals(make_event, make_registration, make_user):
    event = make_event(capacity=3, max_guests=2)
    first = make_registration(event, guests=1)
    make_registration(event)
    make_registration(event, guests=2)  # does not fit: waitlisted
    gone = make_registration(event)  # waitlisted, then cancelled
    cancel_registration(gone.registration)
    check_in(first.registration, by=make_user("staff"))

    counts = registration_counts(event)

    assert (counts.confirmed, counts.confirmed_guests, counts.confirmed_people) == (2, 1, 3)
    assert (counts.waitlisted, counts.cancelled, counts.checked_in) == (1, 1, 1)
    assert counts.total == 4
    waiting = find_registrations(event, status=RegistrationStatus.WAITLISTED)
    assert [r.guests for r in waiting] == [2]
