"""The partner workspace: an organisation's events, proposals, review and profile."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEntry, Event, EventStatus, MessageKind, utcnow
from outreach.services import audit
from outreach.services.event_editing import create_event
from outreach.services.organisations import MAX_LOGO_BYTES
from outreach.services.review import request_changes, submit
from tests.web.html import page

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def logo_folder(app, tmp_path):
    app.config["LOGO_DIR"] = str(tmp_path / "logos")
    return tmp_path / "logos"


@pytest.fixture
def team(make_org, make_user):
    own, partner_org, other = (
        make_org(name="Sahel Forum"),
        make_org(name="Brückenwerk"),
        make_org(name="Andere Leute"),
    )
    return {
        "own": own,
        "partner_org": partner_org,
        "other_org": other,
        "me": make_user("partner", org=own, name="Amina Diallo"),
        "other": make_user("partner", org=other),
        "staff": make_user("staff", email="team@example.org"),
    }


def proposal(**overrides) -> dict:
    """The fields of a valid bilingual proposal in three weeks, 18:00–20:00 in Berlin."""
    day = (utcnow().astimezone(BERLIN) + timedelta(days=21)).date().isoformat()
    data = {
        "title_de": "Erzählcafé",
        "summary_de": "Geschichten aus der Nachbarschaft",
        "description_de": "",
        "title_en": "Story café",
        "summary_en": "Stories from the neighbourhood",
        "description_en": "",
        "languages": ["de", "en"],
        "start_date": day,
        "start_time": "18:00",
        "end_date": day,
        "end_time": "20:00",
        "timezone": "Europe/Berlin",
        "venue_name": "Nachbarschaftshaus",
        "venue_city": "Berlin",
        "capacity": "30",
        "waitlist_enabled": "y",
        "max_guests": "1",
        "reminders_enabled": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def draft_of(team, event_input, **values) -> Event:
    return create_event(event_input(**values), by=team["me"])


# -- access -----------------------------------------------------------------------------


def test_dashboard_lists_only_the_organisations_own_events(team, login, make_event, event_input):
    mine = make_event(title="Unser Fest", hosts=[team["own"]])
    co_hosted = make_event(title="Gemeinsam", hosts=[team["partner_org"], team["own"]])
    make_event(title="Fremdes Fest", hosts=[team["other_org"]])
    draft = draft_of(team, event_input)

    response = login(team["me"]).get("/partner/?lang=de")

    assert response.status_code == 200
    text = page(response).text
    assert mine.title_in("de") in text and co_hosted.title_in("de") in text
    assert draft.title_in("de") in text
    assert "Fremdes Fest" not in text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/partner/events/{id}"),
        ("get", "/partner/events/{id}/edit"),
        ("post", "/partner/events/{id}/edit"),
        ("post", "/partner/events/{id}/submit"),
    ],
)
def test_another_organisations_event_is_not_found(team, login, make_event, method, path):
    foreign = make_event(status=EventStatus.DRAFT, hosts=[team["other_org"]])
    client = login(team["me"])

    response = getattr(client, method)(path.format(id=foreign.id), data=proposal())

    assert response.status_code == 404
    db.session.rollback()
    assert db.session.get(Event, foreign.id).status is EventStatus.DRAFT


def test_a_missing_event_is_not_found(team, login):
    assert login(team["me"]).get("/partner/events/999999").status_code == 404


def test_staff_may_not_use_the_partner_workspace_and_strangers_log_in_first(team, login):
    assert login(team["staff"]).get("/partner/").status_code == 403

    anonymous = login(None).get("/partner/events/new")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")


def test_empty_dashboard_invites_to_propose_an_event(team, login):
    html = page(login(team["me"]).get("/partner/?lang=en"))

    assert "No events yet." in html.one(class_="empty-state").text
    assert html.all("a", href="/partner/events/new")


# -- proposing and editing ------------------------------------------------------------------


def test_partner_proposes_a_bilingual_event_with_a_co_host(team, login):
    client = login(team["me"])
    form = page(client.get("/partner/events/new?lang=en"))
    assert form.duplicate_ids() == [] and form.unlabelled_controls() == []

    response = client.post(
        "/partner/events/new", data=proposal(co_hosts=[str(team["partner_org"].id)])
    )

    assert response.status_code == 303
    event = db.session.scalar(select(Event))
    assert response.headers["Location"] == f"/partner/events/{event.id}"
    assert event.status is EventStatus.DRAFT
    assert [host.id for host in event.hosts] == [team["own"].id, team["partner_org"].id]
    assert event.title_in("de") == "Erzählcafé" and event.title_in("en") == "Story café"
    assert event.local_start.hour == 18 and event.timezone == "Europe/Berlin"
    assert event.capacity == 30 and event.max_guests == 1
    assert event.created_by_id == team["me"].id
    shown = page(client.get(response.headers["Location"] + "?lang=en"))
    assert "Draft" in shown.one(class_="ws-status").text
    assert "Brückenwerk" in shown.text


def test_partner_cannot_offer_its_own_organisation_as_co_host(team, login):
    html = page(login(team["me"]).get("/partner/events/new"))

    offered = {box.attrs["value"] for box in html.all("input", name="co_hosts")}
    assert str(team["own"].id) not in offered
    assert str(team["partner_org"].id) in offered
    assert not html.all("select", name="lead_host")


def test_invalid_proposal_shows_the_errors_and_writes_nothing(team, login, counts):
    client = login(team["me"])
    before = counts()

    response = client.post(
        "/partner/events/new?lang=en",
        data=proposal(
            title_de="",
            summary_de="",
            title_en="",
            summary_en="",
            capacity="-3",
            venue_name="",
            venue_city="",
        ),
    )

    assert response.status_code == 422
    html = page(response)
    summary = html.one(class_="error-summary").text
    assert "Please give the event a title." in summary
    assert "Please enter a number from 0 to 100000." in summary
    assert "Please give a venue or an online link." in summary
    assert html.one("input", name="title_de").attrs["aria-invalid"] == "true"
    assert html.one("input", name="capacity").attrs["value"] == "-3"
    assert counts() == before
    assert db.session.scalar(select(Event)) is None


def test_a_form_that_cannot_be_read_is_refused_with_422(team, login, counts):
    before = counts()

    response = login(team["me"]).post(
        "/partner/events/new?lang=en",
        data=proposal(start_date="tomorrow", capacity="many", timezone="Mars/Olympus"),
    )

    assert response.status_code == 422
    summary = page(response).one(class_="error-summary").text
    assert "Please enter a whole number." in summary
    assert "Please choose a known time zone." in summary
    assert counts() == before


def test_a_draft_can_be_edited(team, login, event_input):
    event = draft_of(team, event_input)
    client = login(team["me"])
    assert client.get(f"/partner/events/{event.id}/edit").status_code == 200

    response = client.post(
        f"/partner/events/{event.id}/edit", data=proposal(title_en="Story evening")
    )

    assert response.status_code == 303
    db.session.expire_all()
    assert event.title_in("en") == "Story evening"
    assert audit.entries_for(event)[0].action == "event.updated"


@pytest.mark.parametrize("status", [EventStatus.SUBMITTED, EventStatus.PUBLISHED])
def test_only_drafts_can_be_edited(team, login, make_event, status):
    event = make_event(status=status, hosts=[team["own"]], title="Sommerfest")
    client = login(team["me"])

    shown = client.get(f"/partner/events/{event.id}/edit?lang=en")
    posted = client.post(f"/partner/events/{event.id}/edit", data=proposal(title_de="Neu"))

    assert shown.status_code == 403
    assert "Only drafts can be changed here." in page(shown).text
    assert posted.status_code == 403
    db.session.expire_all()
    assert event.title_in("de") == "Sommerfest"
    assert not page(client.get(f"/partner/events/{event.id}")).all(
        "a", href=f"/partner/events/{event.id}/edit"
    )


# -- review ---------------------------------------------------------------------------------


def test_submitting_a_draft_sends_it_to_review_and_tells_the_staff(
    team, login, event_input, outbox
):
    event = draft_of(team, event_input)
    client = login(team["me"])
    html = page(client.get(f"/partner/events/{event.id}?lang=en"))
    assert html.one("form", action=f"/partner/events/{event.id}/submit")

    response = client.post(
        f"/partner/events/{event.id}/submit", data={"comment": "Bitte bis Freitag."}
    )

    assert response.status_code == 303
    db.session.expire_all()
    assert event.status is EventStatus.SUBMITTED
    [message] = outbox(kind=MessageKind.EVENT_SUBMITTED)
    assert message.recipient == "team@example.org"
    assert message.payload["comment"] == "Bitte bis Freitag."
    after = page(client.get(f"/partner/events/{event.id}?lang=en"))
    assert "Waiting for review" in after.one(class_="ws-status").text
    assert not after.all("form", action=f"/partner/events/{event.id}/submit")


def test_submitting_twice_changes_nothing(team, login, event_input, outbox):
    event = draft_of(team, event_input)
    submit(event, by=team["me"])
    client = login(team["me"])

    response = client.post(f"/partner/events/{event.id}/submit?lang=en", data={"comment": ""})

    assert response.status_code == 303
    assert len(outbox(kind=MessageKind.EVENT_SUBMITTED)) == 1
    flashed = page(client.get(response.headers["Location"] + "?lang=en"))
    assert "This step is not possible for this event now." in flashed.text


def test_a_too_long_note_is_refused_and_the_event_stays_a_draft(team, login, event_input):
    event = draft_of(team, event_input)

    response = login(team["me"]).post(
        f"/partner/events/{event.id}/submit?lang=en", data={"comment": "x" * 5001}
    )

    assert response.status_code == 422
    assert "Please use at most 5000 characters." in page(response).text
    db.session.expire_all()
    assert event.status is EventStatus.DRAFT


def test_requested_changes_show_the_staff_comment_prominently(team, login, event_input):
    event = draft_of(team, event_input)
    submit(event, by=team["me"])
    request_changes(event, by=team["staff"], comment="Bitte den Ort ergänzen.")
    client = login(team["me"])

    dashboard = page(client.get("/partner/?lang=en"))
    detail = page(client.get(f"/partner/events/{event.id}?lang=en"))

    card = dashboard.one(class_="ws-card--attention")
    assert "Bitte den Ort ergänzen." in card.one(class_="ws-review-comment").text
    assert "Changes requested" in card.text
    assert card.all("a", href=f"/partner/events/{event.id}/edit")
    assert "Bitte den Ort ergänzen." in detail.one(class_="ws-review-comment").text
    assert detail.one("form", action=f"/partner/events/{event.id}/submit")


def test_upcoming_events_show_seats_taken(team, login, make_event, make_registration):
    event = make_event(hosts=[team["own"]], capacity=10, title="Lesung")
    make_registration(event, guests=0)
    make_registration(event)

    html = page(login(team["me"]).get("/partner/?lang=en"))

    row = html.one("section", **{"aria-labelledby": "upcoming-heading"})
    assert "2 of 10 seats taken" in row.text
    assert "Published" in row.text


def test_a_published_event_links_to_its_desk_and_public_page(team, login, make_event):
    event = make_event(hosts=[team["own"]], slug="lesung")

    html = page(login(team["me"]).get(f"/partner/events/{event.id}?lang=en"))

    assert html.all("a", href=f"/desk/events/{event.id}/registrations")
    assert html.all("a", href=f"/desk/events/{event.id}/check-in")
    assert html.all("a", href="/events/lesung")


# -- the organisation's profile ---------------------------------------------------------------


def test_profile_update_is_saved_and_audited(team, login):
    client = login(team["me"])
    html = page(client.get("/partner/profile?lang=en"))
    assert html.one("input", name="name").attrs["value"] == "Sahel Forum"

    response = client.post(
        "/partner/profile",
        data={
            "name": "Sahel Forum e.V.",
            "description_de": "Wir verbinden Menschen.",
            "description_en": "We bring people together.",
            "website": "https://sahel.example.org",
            "contact_email": "Kontakt@Sahel.example.org",
        },
    )

    assert response.status_code == 303
    org = team["own"]
    db.session.expire_all()
    assert org.name == "Sahel Forum e.V."
    assert org.description == {"de": "Wir verbinden Menschen.", "en": "We bring people together."}
    assert org.contact_email == "kontakt@sahel.example.org"
    [entry] = audit.entries_for(org)
    assert entry.action == "organisation.updated" and entry.actor_id == team["me"].id
    assert entry.changes["name"] == ["Sahel Forum", "Sahel Forum e.V."]
    public = page(client.get(f"/organisations/{org.slug}?lang=en"))
    assert "We bring people together." in public.text


def test_profile_errors_are_shown_and_nothing_is_saved(team, login):
    response = login(team["me"]).post(
        "/partner/profile?lang=en",
        data={"name": "", "website": "javascript:alert(1)", "contact_email": "nope"},
    )

    assert response.status_code == 422
    summary = page(response).one(class_="error-summary").text
    assert "Please enter the organisation's name." in summary
    assert "Please give a web address starting with https://." in summary
    db.session.expire_all()
    assert team["own"].name == "Sahel Forum"
    assert db.session.scalar(select(AuditEntry)) is None


def _png(size=(800, 400)) -> bytes:
    output = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 255)).save(output, format="PNG")
    return output.getvalue()


def _upload(client, content: bytes, filename: str = "logo.png", query: str = "?lang=en"):
    return client.post(
        "/partner/profile/logo" + query,
        data={"logo": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_logo_upload_is_shown_on_the_public_page_and_served_for_long(team, login, logo_folder):
    client = login(team["me"])

    response = _upload(client, _png())

    assert response.status_code == 303
    db.session.expire_all()
    name = team["own"].logo_path
    assert (logo_folder / name).exists()
    public = page(client.get(f"/organisations/{team['own'].slug}"))
    assert public.one("img", class_="organisation__logo").attrs["src"] == f"/logos/{name}"
    served = client.get(f"/logos/{name}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    assert Image.open(io.BytesIO(served.data)).size == (512, 256)
    assert client.get("/logos/..%2Fsecret.png").status_code == 404
    assert client.get("/logos/not-a-logo.png").status_code == 404


def test_a_text_file_named_png_is_refused(team, login, logo_folder):
    response = _upload(login(team["me"]), b"just some words, not a picture")

    assert response.status_code == 422
    assert "This file is not an image we can read." in page(response).text
    db.session.expire_all()
    assert team["own"].logo_path is None
    assert not logo_folder.exists() or not any(logo_folder.iterdir())


def test_a_logo_over_2_mb_is_refused_with_a_form_error(team, login):
    client = login(team["me"])

    slightly = _upload(client, b"\x89PNG" + b"0" * MAX_LOGO_BYTES)
    far = _upload(client, b"\x89PNG" + b"0" * (3 * MAX_LOGO_BYTES))

    assert slightly.status_code == 422
    assert far.status_code == 413
    for response in (slightly, far):
        html = page(response)
        assert "a logo may have at most 2 MB" in html.one(class_="error-summary").text
        assert html.one("input", name="logo")
    db.session.expire_all()
    assert team["own"].logo_path is None


def test_removing_the_logo_asks_first(team, login, logo_folder):
    client = login(team["me"])
    _upload(client, _png())
    db.session.expire_all()
    name = team["own"].logo_path

    confirm = client.get("/partner/profile/logo/remove?lang=en")
    assert confirm.status_code == 200
    button = page(confirm).one("input", type="submit")
    assert button.attrs["value"] == "Yes, remove the logo"
    assert team["own"].logo_path == name

    response = client.post("/partner/profile/logo/remove")

    assert response.status_code == 303
    db.session.expire_all()
    assert team["own"].logo_path is None
    assert not (logo_folder / name).exists()


def test_a_logo_over_the_general_request_limit_gets_through_the_csrf_check(app, team, login):
    client = login(team["me"])
    app.config.update(WTF_CSRF_ENABLED=True)
    token = page(client.get("/partner/profile")).all("input", name="csrf_token")[0].attrs["value"]
    noise = Image.frombytes("RGB", (800, 700), os.urandom(800 * 700 * 3))
    output = io.BytesIO()
    noise.save(output, format="PNG")
    assert app.config["MAX_CONTENT_LENGTH"] < len(output.getvalue()) < MAX_LOGO_BYTES

    response = client.post(
        "/partner/profile/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(output.getvalue()), "photo.png")},
        content_type="multipart/form-data",
    )
    too_large = _upload(client, b"\x89PNG" + b"0" * (3 * MAX_LOGO_BYTES))

    assert response.status_code == 303
    assert too_large.status_code == 413
    assert "a logo may have at most 2 MB" in page(too_large).text
