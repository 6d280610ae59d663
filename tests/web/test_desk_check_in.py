"""Check-in at the door, with and without JavaScript, and the QR code behind it."""

from __future__ import annotations

import re

import pytest

from outreach.extensions import db
from outreach.models import RegistrationStatus
from outreach.services.checkin import check_in_token
from tests.web.html import Page, page

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json", "Accept-Language": "en"}


@pytest.fixture
def event(make_event):
    return make_event(capacity=2, max_guests=2)


@pytest.fixture
def people(event, make_registration):
    return {
        "amina": make_registration(event, name="Amina Diallo", guests=1).registration,
        "jorg": make_registration(event, name="Jörg Özdemir", email="jo@example.org").registration,
    }


@pytest.fixture
def host(make_user, event, login):
    user = make_user("partner", org=event.hosts[0])
    login(user)
    return user


def _count(html: Page, name: str) -> str:
    [element] = [e for e in html.iter() if e.attrs.get("data-count") == name]
    return element.text


def test_the_door_page_shows_the_counts_and_a_search(client, host, event, people):
    response = client.get(f"/desk/events/{event.id}/check-in", headers=EN)

    assert response.status_code == 200
    html = page(response)
    assert (_count(html, "checked_in"), _count(html, "confirmed")) == ("0", "1")
    assert _count(html, "guests_expected") == "1"
    assert html.one("form", role="search").attrs["method"] == "get"
    assert html.all("script", src="/static/js/checkin.js")
    assert not html.all("script", src=None)  # no inline script
    assert not html.all(class_="desk-people")
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_a_search_finds_people_and_says_who_cannot_come_in(client, host, event, people):
    html = page(client.get(f"/desk/events/{event.id}/check-in?q=o", headers=EN))

    amina = html.by_id(f"person-{people['amina'].id}")
    jorg = html.by_id(f"person-{people['jorg'].id}")
    assert amina.one("form").attrs["action"] == (
        f"/desk/events/{event.id}/check-in/{people['amina'].id}"
    )
    assert "with 1 guest" in amina.text
    assert "On the waitlist: cannot be checked in" in jorg.text
    assert not jorg.all("form")

    none = page(client.get(f"/desk/events/{event.id}/check-in?q=zzz", headers=EN))
    assert "Nobody registered matches “zzz”." in none.one(class_="empty-state").text


def test_checking_in_without_javascript_comes_back_to_the_search(client, host, event, people):
    amina = people["amina"]
    url = f"/desk/events/{event.id}/check-in/{amina.id}"

    response = client.post(url, data={"q": "amina"}, headers=EN)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/desk/events/{event.id}/check-in?q=amina"
    db.session.refresh(amina)
    assert amina.checked_in_at is not None and amina.checked_in_by_id == host.id
    html = page(client.get(response.headers["Location"], headers=EN))
    assert "Amina Diallo is checked in." in html.one(class_="flashes").text
    assert _count(html, "checked_in") == "1" and _count(html, "guests_arrived") == "1"
    row = html.by_id(f"person-{amina.id}")
    assert "Checked in at" in row.text
    assert row.one("form").attrs["action"] == f"{url}/undo"

    again = client.post(url, headers=EN)
    assert again.status_code == 303
    assert "already checked in" in page(client.get(again.headers["Location"], headers=EN)).text


def test_the_script_gets_json_with_the_new_row_and_counts(client, host, event, people):
    amina = people["amina"]
    base = f"/desk/events/{event.id}/check-in"

    answer = client.post(f"{base}/{amina.id}", data={"q": "ami"}, headers=JSON).get_json()

    assert answer["ok"] is True
    assert answer["message"] == "Amina Diallo is checked in."
    assert answer["counts"] == {
        "confirmed": 1,
        "checked_in": 1,
        "missing": 0,
        "guests_expected": 1,
        "guests_arrived": 1,
    }
    row = Page(answer["row"])
    assert row.one("li").attrs["id"] == f"person-{amina.id}"
    assert row.one("form").attrs["action"] == f"{base}/{amina.id}/undo"
    assert row.one("input", name="q").attrs["value"] == "ami"

    again = client.post(f"{base}/{amina.id}", headers=JSON).get_json()
    assert again["ok"] is True and "already checked in at" in again["message"]
    assert again["counts"]["checked_in"] == 1

    undone = client.post(f"{base}/{amina.id}/undo", headers=JSON).get_json()
    assert undone["message"] == "The check-in of Amina Diallo is undone."
    assert undone["counts"]["checked_in"] == 0
    assert client.get(f"{base}/counts.json").get_json()["checked_in"] == 0


def test_someone_on_the_waitlist_is_not_let_in(client, host, event, people):
    jorg = people["jorg"]
    url = f"/desk/events/{event.id}/check-in/{jorg.id}"

    as_json = client.post(url, headers=JSON)
    as_page = client.post(url, headers=EN)

    assert as_json.status_code == 409
    assert as_json.get_json() == {
        "ok": False,
        "message": "Only people with a confirmed seat can be checked in.",
    }
    assert as_page.status_code == 409
    assert "confirmed seat" in page(as_page).one(class_="notice--error").text
    db.session.refresh(jorg)
    assert jorg.checked_in_at is None


def test_the_counts_endpoint_is_not_cached(client, host, event, people):
    response = client.get(f"/desk/events/{event.id}/check-in/counts.json")

    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["confirmed"] == 1


# -- the link in the QR code ------------------------------------------------------------------


def test_opening_the_code_shows_the_person_and_checks_in_only_on_post(client, host, event, people):
    amina = people["amina"]
    url = f"/check-in/scan/{check_in_token(amina)}"

    shown = page(client.get(url, headers=EN))

    assert shown.one("h1").text == "Amina Diallo"
    assert shown.one("form", action=url).one("button").text == "Check in"
    db.session.refresh(amina)
    assert amina.checked_in_at is None

    done = client.post(url, data={"event_id": str(event.id)}, headers=EN)
    assert done.status_code == 303 and done.headers["Location"] == url
    db.session.refresh(amina)
    assert amina.checked_in_at is not None
    after = page(client.get(url, headers=EN))
    assert re.search(r"Already checked in at \d{1,2}:\d{2}", after.text)
    assert not after.all("form", action=url)


def test_a_code_scanned_at_another_events_door_is_refused(client, host, event, people, make_event):
    amina = people["amina"]
    url = f"/check-in/scan/{check_in_token(amina)}"

    response = client.post(url, data={"event_id": "999"}, headers=JSON)

    assert response.status_code == 409
    assert "another event" in response.get_json()["message"]
    db.session.refresh(amina)
    assert amina.checked_in_at is None


def test_the_scanner_gets_json(client, host, event, people):
    url = f"/check-in/scan/{check_in_token(people['amina'])}"

    answer = client.post(url, data={"event_id": str(event.id)}, headers=JSON).get_json()

    assert answer["ok"] is True and answer["changed"] is True
    assert answer["counts"]["checked_in"] == 1
    waiting = client.post(f"/check-in/scan/{check_in_token(people['jorg'])}", headers=JSON)
    assert waiting.status_code == 409 and waiting.get_json()["message"].startswith("Jörg")


def test_a_bad_code_is_not_found(client, host):
    response = client.get("/check-in/scan/WzEsMV0.forged", headers=EN)

    assert response.status_code == 404
    assert "This check-in code is not valid." in page(response).text


def test_anonymous_people_opening_a_code_are_asked_to_log_in(client, event, people):
    url = f"/check-in/scan/{check_in_token(people['amina'])}"

    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# -- the code on the registrant's own page ----------------------------------------------------


def test_a_confirmed_registration_shows_its_check_in_code(client, make_event, make_registration):
    event = make_event(capacity=1)
    confirmed = make_registration(event)
    waiting = make_registration(event)

    html = page(client.get(f"/r/{confirmed.token}?lang=en"))

    section = html.one("section", class_="check-in-code")
    assert "Show this code at the entrance." in section.text
    assert section.one("svg").attrs["role"] == "img"
    assert section.one("title").text == "Your check-in code"
    assert section.one("a").attrs["href"] == f"/r/{confirmed.token}/check-in.png"
    assert not page(client.get(f"/r/{waiting.token}?lang=en")).all(class_="check-in-code")


def test_the_code_comes_as_a_png_for_confirmed_registrations_only(
    client, make_event, make_registration
):
    event = make_event(capacity=1)
    confirmed = make_registration(event)
    waiting = make_registration(event)

    image = client.get(f"/r/{confirmed.token}/check-in.png")

    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Cache-Control"] == "no-store"
    assert image.data.startswith(b"\x89PNG")
    assert client.get(f"/r/{waiting.token}/check-in.png").status_code == 404
    assert waiting.registration.status is RegistrationStatus.WAITLISTED
