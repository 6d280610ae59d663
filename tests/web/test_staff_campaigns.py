"""Staff campaign pages: the list, the audience builder and texts, preview, test, sending."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    utcnow,
)
from outreach.services import campaigns as campaign_service
from outreach.services.campaigns import CampaignInput
from tests.web.html import page

BERLIN = ZoneInfo("Europe/Berlin")
TEXTS = {
    "de": {"subject": "Danke, {{ first_name }}", "body": "Hallo {{ first_name }}!"},
    "en": {"subject": "Thank you, {{ first_name }}", "body": "Hello {{ first_name }}!"},
}


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", name="Selin Kaya")
    login(user)
    return user


@pytest.fixture
def event(make_event, make_registration):
    """A past event with three confirmed registrations, in German and English."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=3)
    event = make_event(
        title="Elternabend",
        starts_at=starts,
        languages=["de", "en"],
        questions=[
            {
                "kind": "single_choice",
                "label": {"de": "Essen", "en": "Food"},
                "options": [
                    {"value": "vegan", "label": {"de": "vegan", "en": "vegan"}},
                    {"value": "meat", "label": {"de": "Fleisch", "en": "meat"}},
                ],
            }
        ],
    )
    return event


@pytest.fixture
def registrants(event, make_registration):
    now = event.starts_at - timedelta(days=10)
    return [
        make_registration(event, name="Amina Diallo", email="amina@example.org", now=now),
        make_registration(event, name="Ben Berg", email="ben@example.org", language="en", now=now),
        make_registration(event, name="Chen Li", email="chen@example.org", now=now),
    ]


@pytest.fixture
def make_campaign(staff, event):
    def make(**values) -> Campaign:
        data = CampaignInput(
            kind=CampaignKind.OUTREACH,
            name=values.pop("name", "Danke fürs Kommen"),
            texts=values.pop("texts", TEXTS),
            fallback_language=values.pop("fallback_language", "de"),
            segment=values.pop(
                "segment", {"type": "registrants", "events": [event.id], "statuses": ["confirmed"]}
            ),
        )
        return campaign_service.create_campaign(data, by=staff)

    return make


def _form(event, **overrides) -> dict:
    data = {
        "name": "Danke fürs Kommen",
        "audience": "registrants",
        "events": [str(event.id)],
        "statuses": ["confirmed"],
        "attendance": "",
        "question": "",
        "answer": "",
        "subject_de": TEXTS["de"]["subject"],
        "body_de": TEXTS["de"]["body"],
        "subject_en": TEXTS["en"]["subject"],
        "body_en": TEXTS["en"]["body"],
        "fallback_language": "de",
        "save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _campaign_rows(campaign: Campaign) -> int:
    db.session.rollback()
    query = select(func.count(OutboxMessage.id)).where(OutboxMessage.campaign_id == campaign.id)
    return db.session.scalar(query)


def _campaigns() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Campaign.id)))


# -- who may come in ---------------------------------------------------------------------

GETS = [
    "/staff/campaigns",
    "/staff/campaigns/new",
    "/staff/campaigns/segment-size?audience=registrants&events={event}&statuses=confirmed",
    "/staff/campaigns/{campaign}",
    "/staff/campaigns/{campaign}/edit",
    "/staff/campaigns/{campaign}/preview.html?version=de",
    "/staff/campaigns/{campaign}/send",
    "/staff/campaigns/{campaign}/cancel",
    "/staff/campaigns/{campaign}/progress.json",
    "/staff/campaigns/{campaign}/recipients",
]
POSTS = [
    "/staff/campaigns/new",
    "/staff/campaigns/{campaign}/edit",
    "/staff/campaigns/{campaign}/test",
    "/staff/campaigns/{campaign}/schedule",
    "/staff/campaigns/{campaign}/send",
    "/staff/campaigns/{campaign}/cancel",
]


@pytest.fixture
def world(make_campaign, make_user, login, event):
    campaign = make_campaign()
    partner = make_user("partner")
    return {"campaign": campaign, "event": event, "partner": partner}


def _url(template: str, world) -> str:
    return template.format(campaign=world["campaign"].id, event=world["event"].id)


@pytest.mark.parametrize("template", GETS)
def test_staff_see_every_campaign_page(client, world, template):
    response = client.get(_url(template, world))

    assert response.status_code == 200
    if response.mimetype == "text/html":
        html = page(response)
        assert html.duplicate_ids() == []
        assert html.unlabelled_controls() == []


@pytest.mark.parametrize("template", GETS)
def test_partners_are_refused_campaign_pages(client, login, world, template):
    login(world["partner"])

    assert client.get(_url(template, world)).status_code == 403


@pytest.mark.parametrize("template", GETS)
def test_anonymous_visitors_are_sent_to_log_in_first(client, login, world, template):
    login(None)

    response = client.get(_url(template, world))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("template", POSTS)
def test_partners_cannot_post_to_campaign_actions(client, login, world, template, counts):
    login(world["partner"])
    before = counts(), _campaigns()

    response = client.post(_url(template, world), data=_form(world["event"], name="Hijack"))

    assert response.status_code == 403
    assert (counts(), _campaigns()) == before
    assert world["campaign"].status is CampaignStatus.DRAFT


@pytest.mark.parametrize("template", POSTS)
def test_anonymous_posts_are_sent_to_log_in(client, login, world, template):
    login(None)

    response = client.post(_url(template, world))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_unknown_campaign_is_not_found(client, staff):
    for what in ("999999", "999999/edit", "999999/progress.json", "999999/send"):
        assert client.get(f"/staff/campaigns/{what}").status_code == 404, what


def test_the_staff_menu_leads_to_the_campaigns(client, staff):
    menu = page(client.get("/staff/campaigns?lang=en")).one("nav", class_="staff-nav")

    assert menu.one("a", aria_current="page").text == "Campaigns"
    on_new = page(client.get("/staff/campaigns/new?lang=en")).one("nav", class_="staff-nav")
    assert on_new.one("a", aria_current="true").text == "Campaigns"


# -- the list ----------------------------------------------------------------------------


def test_the_list_has_an_empty_state_with_the_way_to_start(client, staff):
    html = page(client.get("/staff/campaigns?lang=en"))

    assert "There are no campaigns yet." in html.text
    assert html.all("a", href="/staff/campaigns/new")


def test_the_list_shows_each_campaign_with_its_state_and_progress(
    client, make_campaign, registrants
):
    draft = make_campaign(name="Einladung")
    sent = make_campaign(name="Danke")
    campaign_service.send_now(sent, by=None)
    campaign_service.enqueue(sent)

    html = page(client.get("/staff/campaigns?lang=en"))

    rows = {row.one("a").text: row for row in html.one("tbody").all("tr")}
    assert set(rows) == {"Einladung", "Danke"}
    assert "Draft" in rows["Einladung"].text
    assert rows["Danke"].one("progress").attrs["max"] == "3"
    assert "0 sent, 0 failed" in rows["Danke"].text
    assert "Sending" in rows["Danke"].text and "sent" in rows["Danke"].text
    assert rows["Einladung"].one("a").attrs["href"] == f"/staff/campaigns/{draft.id}"


# -- building and saving -----------------------------------------------------------------


def test_the_form_offers_past_events_their_questions_and_the_placeholders(
    client, staff, event, make_event
):
    make_event(title="Sommerfest")

    html = page(client.get("/staff/campaigns/new?lang=en"))

    events = [option.text for option in html.by_id("events").all("option")]
    assert any(text.startswith("Elternabend") for text in events)
    assert any(text.startswith("Sommerfest") for text in events)
    question = html.by_id("question").one("optgroup")
    assert question.attrs["data-event"] == str(event.id)
    assert question.one("option").text == "Food"
    answers = [option.attrs["value"] for option in html.by_id("answer").all("option")]
    assert answers == ["", "vegan", "meat"]
    assert "{{ first_name }}" in html.text and "{{ event.title }}" in html.text
    assert html.by_id("subject_de").attrs["lang"] == "de"


def test_a_campaign_is_saved_as_a_draft(client, staff, event):
    response = client.post(
        "/staff/campaigns/new?lang=en",
        data=_form(event, attendance="no_show", question="", languages=["en"]),
    )

    assert response.status_code == 303
    campaign = db.session.scalars(select(Campaign)).one()
    assert response.headers["Location"] == f"/staff/campaigns/{campaign.id}"
    assert campaign.status is CampaignStatus.DRAFT and campaign.kind is CampaignKind.OUTREACH
    assert campaign.texts == TEXTS
    assert campaign.segment == {
        "type": "registrants",
        "events": [event.id],
        "statuses": ["confirmed"],
        "attendance": "no_show",
        "languages": ["en"],
        "question": None,
    }
    assert campaign.created_by_id == staff.id


def test_an_audience_by_answer_to_a_question_is_saved(client, staff, event):
    question = event.questions[0]

    response = client.post(
        "/staff/campaigns/new", data=_form(event, question=str(question.id), answer="vegan")
    )

    assert response.status_code == 303
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.segment["question"] == {"id": question.id, "answer": "vegan"}


def test_contacts_of_organisations_are_an_audience(client, staff, event, make_org):
    org = make_org(name="Sahel Forum")

    response = client.post(
        "/staff/campaigns/new",
        data=_form(event, audience="contacts", organisations=[str(org.id)]),
    )

    assert response.status_code == 303
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.segment == {"type": "contacts", "organisations": [org.id]}


def test_newsletter_subscribers_are_no_audience_for_outreach(client, staff, event):
    response = client.post(
        "/staff/campaigns/new?lang=en", data=_form(event, audience="subscribers")
    )

    assert response.status_code == 422
    message = page(response).by_id("audience-error").text
    assert "send them a newsletter campaign" in message
    assert _campaigns() == 0


def test_an_unknown_placeholder_is_shown_at_its_field_and_nothing_is_saved(client, staff, event):
    response = client.post(
        "/staff/campaigns/new?lang=en",
        data=_form(event, body_en="Hello {{ nickname }}!"),
    )

    assert response.status_code == 422
    html = page(response)
    field_error = html.by_id("body_en-error").text
    assert "Unknown placeholder: nickname" in field_error
    assert html.by_id("body_en").attrs["aria-invalid"] == "true"
    assert html.one("div", class_="error-summary").all("a", href="#body_en")
    # What was typed is still there to correct.
    assert "Hello {{ nickname }}!" in html.by_id("body_en").text
    assert _campaigns() == 0


def test_unsafe_html_is_refused_with_a_clear_message(client, staff, event):
    response = client.post(
        "/staff/campaigns/new?lang=en",
        data=_form(event, body_de='Hallo <script>alert("x")</script>'),
    )

    assert response.status_code == 422
    assert "HTML that cannot be sent" in page(response).by_id("body_de-error").text
    assert _campaigns() == 0


def test_audience_mistakes_are_shown_at_the_audience_fields(client, staff, event):
    response = client.post("/staff/campaigns/new?lang=en", data=_form(event, events=[]))

    assert response.status_code == 422
    html = page(response)
    assert "Choose at least one event." in html.by_id("events-error").text
    assert _campaigns() == 0


def test_form_field_problems_give_422_without_a_500(client, staff, event):
    response = client.post(
        "/staff/campaigns/new?lang=en",
        data=_form(event, name="", events=["not-a-number"], question="x"),
    )

    assert response.status_code == 422
    html = page(response)
    assert html.by_id("name-error").text == "Please give the campaign a name."
    assert html.by_id("events-error").text == "Choose from the list."
    assert html.by_id("question-error").text == "Choose from the list."
    assert _campaigns() == 0


def test_update_count_shows_the_size_and_saves_nothing(client, staff, event, registrants):
    data = _form(event, count="Update count")
    del data["save"]

    response = client.post("/staff/campaigns/new?lang=en", data=data)

    assert response.status_code == 200
    html = page(response)
    assert html.one("p", class_="campaign-form__size").text == "This campaign reaches 3 people."
    assert html.by_id("name").attrs["value"] == "Danke fürs Kommen"
    assert _campaigns() == 0


def test_the_segment_size_endpoint_counts_the_audience(client, staff, event, registrants):
    response = client.get(
        f"/staff/campaigns/segment-size?lang=en&audience=registrants&events={event.id}"
        "&statuses=confirmed&languages=en"
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"size": 1, "message": "This campaign reaches 1 person."}


def test_the_segment_size_endpoint_answers_bad_input_with_field_messages(client, staff, event):
    nothing = client.get("/staff/campaigns/segment-size?lang=en&audience=registrants")
    garbage = client.get("/staff/campaigns/segment-size?audience=registrants&events=abc")
    wrong_type = client.get("/staff/campaigns/segment-size?lang=en&audience=everyone")

    assert nothing.status_code == 422
    assert nothing.json["errors"] == {
        "events": "Choose at least one event.",
        "statuses": "Choose at least one registration status.",
    }
    assert garbage.status_code == 422 and set(garbage.json["errors"]) == {"events"}
    assert wrong_type.status_code == 422
    assert wrong_type.json["errors"]["audience"] == "Choose who the campaign is for."


@pytest.mark.parametrize(
    "query",
    [
        "events=99999999999999999999999&statuses=confirmed",
        "events=-1&statuses=confirmed",
        "events={event}&statuses=confirmed&question=99999999999999999999&answer=x",
        "events={event}&statuses=nonsense&attendance=sometimes&languages=xx",
        "events={event}&statuses=confirmed&question=%00&answer=%00",
        "audience=contacts&organisations=99999999999999999999",
    ],
)
def test_odd_audience_input_never_gives_a_500(client, staff, event, query):
    query = query.format(event=event.id)
    if "audience=" not in query:
        query += "&audience=registrants"

    response = client.get(f"/staff/campaigns/segment-size?{query}")
    saved = client.post(f"/staff/campaigns/new?{query}", data=_form(event, events=None))

    assert response.status_code == 422 and response.json["errors"]
    assert saved.status_code == 422
    assert _campaigns() == 0


def test_a_draft_is_changed_on_its_form(client, staff, make_campaign, event):
    campaign = make_campaign()

    form = page(client.get(f"/staff/campaigns/{campaign.id}/edit?lang=en"))
    assert form.by_id("name").attrs["value"] == "Danke fürs Kommen"
    selected = [
        o.attrs["value"] for o in form.by_id("events").all("option") if "selected" in o.attrs
    ]
    assert selected == [str(event.id)]

    response = client.post(
        f"/staff/campaigns/{campaign.id}/edit", data=_form(event, name="Danke!", body_en="Hi")
    )

    assert response.status_code == 303
    db.session.refresh(campaign)
    assert campaign.name == "Danke!" and campaign.texts["en"]["body"] == "Hi"


def test_a_cancelled_campaign_cannot_be_changed(client, staff, make_campaign, event):
    campaign = make_campaign()
    campaign_service.cancel(campaign, by=staff)

    response = client.post(f"/staff/campaigns/{campaign.id}/edit", data=_form(event, name="X"))

    assert response.status_code == 409
    db.session.refresh(campaign)
    assert campaign.name == "Danke fürs Kommen"


# -- the campaign page and its preview ----------------------------------------------------


def test_a_newsletter_campaign_is_shown_but_changed_on_its_issue(client, staff):
    newsletter = campaign_service.create_campaign(
        CampaignInput(
            kind=CampaignKind.NEWSLETTER,
            name="Newsletter: Frühling",
            texts={"de": {"subject": "Frühling", "body": "[Lesen](https://example.org/n/1)"}},
            fallback_language="de",
            segment={"type": "subscribers", "languages": [], "interests": []},
        ),
        by=staff,
    )

    html = page(client.get(f"/staff/campaigns/{newsletter.id}?lang=en"))
    edit = client.get(f"/staff/campaigns/{newsletter.id}/edit?lang=en")

    facts = html.by_id("facts-heading").parent.one("dl")
    assert "Newsletter" in facts.text and "Newsletter subscribers" in facts.text
    assert not html.all("a", href=f"/staff/campaigns/{newsletter.id}/edit")
    assert edit.status_code == 409
    assert "A newsletter is changed on its issue" in page(edit).text


def test_the_campaign_page_shows_facts_preview_and_history(
    client, staff, make_campaign, registrants
):
    campaign = make_campaign()

    html = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en&version=en"))

    facts = html.by_id("facts-heading").parent.one("dl")
    assert "People registered for events" in facts.text and "Elternabend" in facts.text
    assert "3 people" in facts.text
    frame = html.one("iframe")
    assert frame.attrs["sandbox"] == ""
    assert frame.attrs["src"].startswith(f"/staff/campaigns/{campaign.id}/preview.html?")
    assert "version=en" in frame.attrs["src"]
    # The first recipient in address order, in the chosen language version.
    assert "Thank you, Amina" in html.text
    assert "Hello Amina!" in html.one("pre", class_="campaign-text").text
    history = html.by_id("history-heading").parent
    assert "Selin Kaya created the campaign" in history.text


def test_the_preview_can_show_a_chosen_recipient(client, staff, make_campaign, registrants):
    campaign = make_campaign()

    html = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en&recipient=chen@example.org"))

    options = [option.attrs["value"] for option in html.by_id("preview-recipient").all("option")]
    assert options == ["", "amina@example.org", "ben@example.org", "chen@example.org"]
    assert "Danke, Chen" in html.text


def test_a_preview_as_someone_outside_the_audience_says_so(client, staff, make_campaign):
    campaign = make_campaign()

    html = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en&recipient=x@example.org"))

    assert "not among the campaign's recipients" in html.text
    assert not html.all("iframe")


def test_the_preview_frame_is_sandboxed_and_never_carries_script(
    client, staff, make_campaign, event, make_registration
):
    make_registration(
        event,
        name='<script>alert("x")</script> Mallory',
        email="mallory@example.org",
        now=event.starts_at - timedelta(days=10),
    )
    campaign = make_campaign(
        texts={"de": {"subject": "Hallo", "body": "Hallo {{ name }}, [Link](https://example.org)"}}
    )

    response = client.get(f"/staff/campaigns/{campaign.id}/preview.html?version=de")

    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "&lt;script&gt;" in html or "\\<script\\>" in html or "script" in html
    assert '<a href="https://example.org">Link</a>' in html


def test_a_test_send_queues_one_message_to_the_staff_member(client, staff, make_campaign):
    campaign = make_campaign()

    response = client.post(f"/staff/campaigns/{campaign.id}/test?lang=en", data={"version": "en"})

    assert response.status_code == 303
    [message] = db.session.scalars(select(OutboxMessage)).all()  # no registrants here
    assert message.recipient == staff.email
    assert message.kind is MessageKind.CAMPAIGN and message.language == "en"
    assert message.campaign_id == campaign.id and message.payload == {"test": True}
    html = page(client.get(response.headers["Location"] + "&lang=en"))
    assert f"A test in English is on its way to {staff.email}." in html.text


def test_a_test_in_a_language_without_a_version_is_refused(client, staff, make_campaign, counts):
    campaign = make_campaign(texts={"de": TEXTS["de"]})
    before = counts()

    response = client.post(f"/staff/campaigns/{campaign.id}/test?lang=en", data={"version": "en"})

    assert response.status_code == 409
    assert "no version in this language" in page(response).one(role="alert").text
    assert counts() == before


# -- scheduling, sending now, cancelling -------------------------------------------------


def test_a_campaign_is_scheduled_in_berlin_time(client, staff, make_campaign):
    campaign = make_campaign()
    day = (datetime.now(BERLIN) + timedelta(days=30)).date()

    response = client.post(
        f"/staff/campaigns/{campaign.id}/schedule",
        data={"send_date": day.isoformat(), "send_time": "09:30"},
    )

    assert response.status_code == 303
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.SCHEDULED
    expected = datetime(day.year, day.month, day.day, 9, 30, tzinfo=BERLIN).astimezone(UTC)
    assert campaign.scheduled_at == expected
    form = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en"))
    assert form.by_id("send_time").attrs["value"] == "09:30"
    assert "scheduled the campaign" in form.by_id("history-heading").parent.text


def test_a_time_in_the_past_or_missing_is_refused_at_its_field(client, staff, make_campaign):
    campaign = make_campaign()
    yesterday = (datetime.now(BERLIN) - timedelta(days=1)).date().isoformat()

    past = client.post(
        f"/staff/campaigns/{campaign.id}/schedule?lang=en",
        data={"send_date": yesterday, "send_time": "10:00"},
    )
    missing = client.post(
        f"/staff/campaigns/{campaign.id}/schedule?lang=en", data={"send_date": yesterday}
    )

    assert past.status_code == 422
    assert "Please choose a time in the future." in page(past).by_id("send_time-error").text
    assert missing.status_code == 422
    assert page(missing).by_id("send_time-error").text == "Please give the time."
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.DRAFT


def test_a_time_the_clocks_skip_is_refused(client, staff, make_campaign):
    campaign = make_campaign()
    # The last Sunday of March: in Berlin the clocks jump from 02:00 to 03:00.
    year = datetime.now(BERLIN).year + 1
    day = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)

    response = client.post(
        f"/staff/campaigns/{campaign.id}/schedule?lang=en",
        data={"send_date": day.isoformat(), "send_time": "02:30"},
    )

    assert response.status_code == 422
    assert "The clocks skip this time" in page(response).by_id("send_time-error").text


def test_send_now_asks_first_with_the_number_of_recipients(
    client, staff, make_campaign, registrants
):
    campaign = make_campaign()

    confirmation = page(client.get(f"/staff/campaigns/{campaign.id}/send?lang=en"))
    assert "3 people will get it." in confirmation.text
    assert db.session.get(Campaign, campaign.id).status is CampaignStatus.DRAFT

    response = client.post(f"/staff/campaigns/{campaign.id}/send")

    assert response.status_code == 303
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.SCHEDULED
    assert campaign.scheduled_at <= utcnow()
    # Nothing is written to the outbox in the request: the worker does that.
    assert _campaign_rows(campaign) == 0
    html = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en"))
    assert "being written to the mail queue" in html.one("section", data_progress="").text
    assert not html.has_id("send_date")
    assert not html.all("a", href=f"/staff/campaigns/{campaign.id}/send")
    again = client.get(f"/staff/campaigns/{campaign.id}/send?lang=en")
    assert again.status_code == 303


def test_a_campaign_on_its_way_is_not_sent_again(client, staff, make_campaign, registrants):
    campaign = make_campaign()
    campaign_service.send_now(campaign, by=staff)
    campaign_service.enqueue(campaign)

    response = client.post(f"/staff/campaigns/{campaign.id}/send")

    assert response.status_code == 303
    assert _campaign_rows(campaign) == 3


def test_cancelling_asks_first_then_stops_the_unsent_messages(
    client, staff, make_campaign, registrants
):
    campaign = make_campaign()
    campaign_service.send_now(campaign, by=staff)
    campaign_service.enqueue(campaign)

    confirmation = page(client.get(f"/staff/campaigns/{campaign.id}/cancel?lang=en"))
    assert "3 messages have not gone out yet and will not be sent." in confirmation.text

    response = client.post(f"/staff/campaigns/{campaign.id}/cancel")

    assert response.status_code == 303
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.CANCELLED
    statuses = db.session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.campaign_id == campaign.id)
    )
    assert set(statuses) == {MessageStatus.SKIPPED}


def test_a_scheduled_campaign_can_be_cancelled(client, staff, make_campaign):
    campaign = make_campaign()
    campaign_service.schedule(campaign, utcnow() + timedelta(days=2), by=staff)

    response = client.post(f"/staff/campaigns/{campaign.id}/cancel")

    assert response.status_code == 303
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.CANCELLED


# -- progress ----------------------------------------------------------------------------


def test_progress_json_counts_the_messages_by_status(client, staff, make_campaign, registrants):
    campaign = make_campaign()
    campaign_service.send_now(campaign, by=staff)
    campaign_service.enqueue(campaign)
    first = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id)
        .order_by(OutboxMessage.recipient)
    ).first()
    first.status, first.sent_at = MessageStatus.SENT, utcnow()
    db.session.commit()

    response = client.get(f"/staff/campaigns/{campaign.id}/progress.json?lang=en")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "id": campaign.id,
        "status": "queued",
        "status_label": "Sending",
        "recipients": 3,
        "total": 3,
        "queued": 2,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "skipped": 0,
        "finished": 1,
        "percent": 33,
        "done": False,
    }


def test_the_campaign_page_shows_progress_that_works_without_script(
    client, staff, make_campaign, registrants
):
    campaign = make_campaign()
    campaign_service.send_now(campaign, by=staff)
    campaign_service.enqueue(campaign)

    html = page(client.get(f"/staff/campaigns/{campaign.id}?lang=en"))

    section = html.one("section", data_progress="")
    assert section.attrs["data-progress-url"] == f"/staff/campaigns/{campaign.id}/progress.json"
    assert section.one("progress").attrs["max"] == "3"
    assert section.one("dd", data_count="queued").text == "3"
    assert section.one("a", data_reload="").attrs["href"] == f"/staff/campaigns/{campaign.id}"


def test_recipients_are_listed_with_their_status_and_error(
    client, staff, make_campaign, registrants
):
    campaign = make_campaign()
    campaign_service.send_now(campaign, by=staff)
    campaign_service.enqueue(campaign)
    failed = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.recipient == "ben@example.org", OutboxMessage.campaign_id == campaign.id
        )
    ).one()
    failed.status, failed.last_error = MessageStatus.FAILED, "550 5.1.1 user unknown"
    db.session.commit()

    everyone = page(client.get(f"/staff/campaigns/{campaign.id}/recipients?lang=en"))
    only_failed = page(
        client.get(f"/staff/campaigns/{campaign.id}/recipients?lang=en&status=failed")
    )

    rows = everyone.one("tbody").all("tr")
    firsts = [row.all("td")[0].children[0].strip() for row in rows]
    assert firsts == ["amina@example.org", "ben@example.org", "chen@example.org"]
    assert "Amina Diallo" in rows[0].text
    [row] = only_failed.one("tbody").all("tr")
    assert "ben@example.org" in row.text and "550 5.1.1 user unknown" in row.text
    assert "English" in row.text and "Failed" in row.text
    sent = client.get(f"/staff/campaigns/{campaign.id}/recipients?lang=en&status=sent")
    assert "No recipient has this status." in page(sent).text
    assert (
        client.get(f"/staff/campaigns/{campaign.id}/recipients?status=nonsense").status_code == 404
    )
