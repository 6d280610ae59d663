"""The shared event form: local times to UTC, language versions, hosts, questions, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, EventStatus, EventTranslation, QuestionKind, utcnow
from outreach.services import audit
from outreach.services.errors import InvalidInput
from outreach.services.event_editing import QuestionInput, create_event, update_event
from outreach.workspace.event_form import EventForm
from tests.web.html import Page, page
from tests.web.test_partner_workspace import proposal

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def people(make_org, make_user):
    own, co_host = make_org(name="Sahel Forum"), make_org(name="Brückenwerk")
    host_org = make_org(name="Outreach Zentrale", is_host=True)
    return {
        "own": own,
        "co_host": co_host,
        "host_org": host_org,
        "partner": make_user("partner", org=own),
        "staff": make_user("staff"),
    }


def _post(client, data: dict):
    return client.post("/partner/events/new?lang=en", data=data)


def _only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))


def _form_page(form: EventForm) -> Page:
    return Page(render_template_string('{% include "workspace/_event_form.html" %}', form=form))


def test_local_date_and_time_in_the_chosen_zone_become_aware_utc(people, login):
    day = (utcnow().astimezone(NEW_YORK) + timedelta(days=30)).date()
    data = proposal(
        timezone="America/New_York",
        start_date=day.isoformat(),
        start_time="18:30",
        end_date=(day + timedelta(days=1)).isoformat(),
        end_time="01:00",
    )

    assert _post(login(people["partner"]), data).status_code == 303

    event = _only_event()
    expected = datetime.combine(day, datetime.min.time().replace(hour=18, minute=30))
    assert event.starts_at == expected.replace(tzinfo=NEW_YORK).astimezone(UTC)
    assert event.starts_at.tzinfo is not None
    assert event.ends_at - event.starts_at == timedelta(hours=6, minutes=30)
    assert event.timezone == "America/New_York"


def test_registration_window_is_read_in_the_events_zone(people, login):
    data = proposal()
    day = datetime.fromisoformat(data["start_date"]).date()
    data.update(
        opens_date=(day - timedelta(days=10)).isoformat(),
        opens_time="09:00",
        closes_date=day.isoformat(),
        closes_time="12:00",
    )

    assert _post(login(people["partner"]), data).status_code == 303

    event = _only_event()
    assert event.registration_closes_at.astimezone(event.zone).hour == 12
    assert event.registration_opens_at.astimezone(event.zone).date() == day - timedelta(days=10)


def test_a_date_without_a_time_is_refused(people, login, counts):
    before = counts()

    response = _post(login(people["partner"]), proposal(start_time="", closes_date="2031-01-01"))

    assert response.status_code == 422
    html = page(response)
    assert html.one("input", name="start_time").attrs["aria-invalid"] == "true"
    assert html.one("input", name="closes_time").attrs["aria-invalid"] == "true"
    assert "Please give both a date and a time." in html.one(class_="error-summary").text
    assert counts() == before


def test_a_language_version_without_a_title_is_left_out(people, login):
    data = proposal(title_en="", summary_en="", description_en="")

    assert _post(login(people["partner"]), data).status_code == 303

    event = _only_event()
    assert set(event.translations) == {"de"}
    assert event.languages == ["de", "en"]


def test_choice_questions_are_written_one_answer_per_line_in_each_language(people, login):
    data = proposal(
        question0_kind="single_choice",
        question0_required="y",
        question0_label_de="Brauchen Sie eine Verdolmetschung?",
        question0_label_en="Do you need interpretation?",
        question0_options_de="Nein\nArabisch\n\nTürkisch\n",
        question0_options_en="No\nArabic\nTurkish",
        question1_kind="",
        question1_label_de="Wird weggelassen",
        question2_kind="long_text",
        question2_label_de="Barrierefreiheit",
    )

    assert _post(login(people["partner"]), data).status_code == 303

    first, second = _only_event().questions
    assert first.kind is QuestionKind.SINGLE_CHOICE and first.required
    assert first.label == {
        "de": "Brauchen Sie eine Verdolmetschung?",
        "en": "Do you need interpretation?",
    }
    assert first.options == [
        {"value": "nein", "label": {"de": "Nein", "en": "No"}},
        {"value": "arabisch", "label": {"de": "Arabisch", "en": "Arabic"}},
        {"value": "turkisch", "label": {"de": "Türkisch", "en": "Turkish"}},
    ]
    assert second.kind is QuestionKind.LONG_TEXT and not second.required
    assert second.label == {"de": "Barrierefreiheit"}


def test_answer_lists_of_different_length_are_refused(people, login, counts):
    before = counts()
    data = proposal(
        question0_kind="multiple_choice",
        question0_label_de="Essen",
        question0_options_de="vegan\nhalal",
        question0_options_en="vegan",
    )

    response = _post(login(people["partner"]), data)

    assert response.status_code == 422
    html = page(response)
    assert html.one("textarea", name="question0_options_en").attrs["aria-invalid"] == "true"
    assert "the same number of answers" in html.one(class_="error-summary").text
    assert counts() == before


def test_a_question_the_service_refuses_is_marked_in_its_own_row(people, login):
    data = proposal(question0_kind="", question1_kind="short_text", question1_label_de="")

    response = _post(login(people["partner"]), data)

    assert response.status_code == 422
    html = page(response)
    assert html.one("input", name="question1_label_de").attrs["aria-invalid"] == "true"
    assert "Please write the question." in html.one(class_="error-summary").text


def test_the_form_shows_an_event_in_its_own_zone(people, login, event_input):
    start = datetime(2031, 3, 14, 23, 15, tzinfo=UTC)  # 19:15 in New York (summer time)
    event = create_event(
        event_input(
            starts_at=start,
            timezone="America/New_York",
            questions=[
                QuestionInput(
                    kind="single_choice",
                    label={"de": "Essen", "en": "Food"},
                    options=[
                        {"value": "v", "label": {"de": "vegan", "en": "vegan"}},
                        {"value": "h", "label": {"de": "halal", "en": "halal"}},
                    ],
                )
            ],
        ),
        by=people["partner"],
    )

    html = page(login(people["partner"]).get(f"/partner/events/{event.id}/edit"))

    assert html.one("input", name="start_date").attrs["value"] == "2031-03-14"
    assert html.one("input", name="start_time").attrs["value"] == "19:15"
    selected = html.one("select", name="timezone").one("option", selected="")
    assert selected.attrs["value"] == "America/New_York"
    assert html.one("input", name="title_en").attrs["value"] == "Story café"
    assert html.one("textarea", name="question0_options_de").text == "vegan halal"
    assert html.duplicate_ids() == [] and html.unlabelled_controls() == []


def test_saving_an_unchanged_form_changes_nothing(app, people, event_input):
    start = utcnow().replace(microsecond=0) + timedelta(days=9, seconds=17)
    event = create_event(
        event_input(
            starts_at=start,
            hosts=[people["co_host"].id],
            questions=[QuestionInput(kind="checkbox", label={"de": "Kinder", "tr": "Çocuk"})],
        ),
        by=people["partner"],
    )
    event.translations["tr"] = EventTranslation(
        locale="tr", title="Hikaye kafe", summary="", description=""
    )
    db.session.commit()

    with app.test_request_context("/partner/events/1/edit"):
        data = EventForm.for_event(event, people["partner"]).to_input()
    update_event(event, data, by=people["partner"])

    assert [entry.action for entry in audit.entries_for(event)] == ["event.created"]
    assert event.starts_at == start
    assert set(event.translations) == {"de", "en", "tr"}


def test_staff_choose_the_lead_host_and_co_hosts(app, people):
    with app.test_request_context(
        "/staff/events/new",
        method="POST",
        data=proposal(lead_host=str(people["co_host"].id), co_hosts=[str(people["own"].id)]),
    ):
        form = EventForm.for_new(people["staff"])
        assert form.validate(), form.errors
        event = create_event(form.to_input(), by=people["staff"])

    assert [host.id for host in event.hosts] == [people["co_host"].id, people["own"].id]


def test_a_new_staff_form_suggests_the_host_organisation_as_lead(app, people):
    with app.test_request_context("/staff/events/new"):
        form = EventForm.for_new(people["staff"])
        html = _form_page(form)

    assert form.lead_host.data == people["host_org"].id
    assert html.one("select", name="lead_host")
    assert len(html.all("input", name="co_hosts")) == 3


def test_staff_must_choose_a_lead_host(app, people):
    with app.test_request_context(
        "/staff/events/new?lang=en", method="POST", data=proposal(lead_host="")
    ):
        form = EventForm.for_new(people["staff"])
        assert not form.validate()

    assert form.lead_host.errors == ["Please choose the lead host."]


def test_questions_are_shown_read_only_once_people_registered(
    app, people, make_event, make_registration
):
    event = make_event(
        hosts=[people["own"]],
        questions=[{"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Rolle", "en": "Role"}}],
    )
    make_registration(event)

    with app.test_request_context("/staff/events/1/edit?lang=en"):
        form = EventForm.for_event(event, people["staff"])
        html = _form_page(form)
        data = form.to_input()

    assert data.questions is None
    assert form.question_rows == 0
    assert "People have registered already" in html.text
    assert "Role" in html.one("ol", class_="ws-question-list").text
    assert not html.all("select", name="question0_kind")


def test_service_errors_land_on_their_fields_and_the_rest_above_the_form(app, people):
    with app.test_request_context("/partner/events/new", method="POST", data=proposal()):
        form = EventForm.for_new(people["partner"])
        form.validate()
        form.to_input()
        form.show_errors(
            InvalidInput(
                {
                    "en.summary": "zu lang",
                    "starts_at": "wann?",
                    "registration_closes_at": "zu spät",
                    "hosts": "wer?",
                    "timezone": "wo?",
                    "texts": "nichts",
                    "questions": "eingefroren",
                    "questions.7.label": "welche?",
                }
            )
        )

    assert form.summary_en.errors == ["zu lang"]
    assert form.start_date.errors == ["wann?"]
    assert form.closes_date.errors == ["zu spät"]
    assert form.co_hosts.errors == ["wer?"]
    assert form.timezone.errors == ["wo?"]
    assert form.form_errors == ["nichts", "eingefroren", "welche?"]


def test_the_form_names_each_language_version_and_starts_in_berlin(people, login):
    html = page(login(people["partner"]).get("/partner/events/new?lang=en"))

    assert html.one("label", **{"for": "title_de"}).text == "Title (German)"
    assert html.one("input", name="title_de").attrs["lang"] == "de"
    assert html.one("select", name="timezone").one("option", selected="").attrs["value"] == (
        "Europe/Berlin"
    )


def test_a_cancelled_or_published_event_cannot_be_changed_by_its_partner(people, login, make_event):
    event = make_event(status=EventStatus.CANCELLED, hosts=[people["own"]])

    assert login(people["partner"]).get(f"/partner/events/{event.id}/edit").status_code == 403


# -- anything at all ------------------------------------------------------------------------

FUZZED_FIELDS = [
    "title_de",
    "summary_en",
    "start_date",
    "start_time",
    "end_time",
    "timezone",
    "venue_name",
    "online_url",
    "capacity",
    "max_guests",
    "opens_date",
    "closes_time",
    "contact_email",
    "languages",
    "topics",
    "co_hosts",
    "question0_kind",
    "question0_label_de",
    "question0_options_de",
    "question0_options_en",
]
anything = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.sampled_from(
        ["\x00", "\r\n", "\u202e", "-1", "١٢", "99999999999999999999", "2031-02-30", "24:00"]
    ),
    st.sampled_from(["single_choice", "checkbox", "Europe/Kyiv", "ar", "0", "x\ny\nz"]),
    st.builds(
        lambda piece, times: (piece or "x") * times, st.text(max_size=3), st.integers(200, 20_000)
    ),
)
garbling = st.dictionaries(
    st.sampled_from(FUZZED_FIELDS), st.one_of(anything, st.lists(anything, max_size=3)), max_size=4
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbled=garbling)
def test_arbitrary_event_form_input_never_fails_and_never_half_stores(people, login, garbled):
    client = login(people["partner"])
    db.session.rollback()
    before = set(db.session.scalars(select(Event.id)))

    response = client.post("/partner/events/new", data={**proposal(), **garbled})

    db.session.rollback()
    created = set(db.session.scalars(select(Event.id))) - before
    assert response.status_code in {303, 422}, response.status_code
    hypothesis_event(f"status {response.status_code}")
    if response.status_code == 303:
        [event_id] = created
        event = db.session.get(Event, event_id)
        assert event.hosts[0].id == people["own"].id
        assert event.translations and event.ends_at > event.starts_at
    else:
        assert created == set()
