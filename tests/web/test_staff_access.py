"""Every staff page is for staff only: partners get 403, anonymous visitors log in first."""

from __future__ import annotations

import pytest

from tests.web.html import page

PAGES = [
    "/staff/",
    "/staff/events",
    "/staff/events/{event}",
    "/staff/events/{event}/cancel",
    "/staff/organisations",
    "/staff/organisations/new",
    "/staff/organisations/{org}",
    "/staff/users",
    "/staff/users/{partner}/deactivate",
    "/staff/mail",
    "/staff/mail.json",
]
POSTS = [
    "/staff/events/{event}/publish",
    "/staff/events/{event}/request-changes",
    "/staff/events/{event}/cancel",
    "/staff/organisations/new",
    "/staff/organisations/{org}/invite",
    "/staff/users/{partner}/deactivate",
    "/staff/users/{partner}/activate",
    "/staff/mail/1/retry",
    "/staff/mail/retry-failed",
]


@pytest.fixture
def world(make_org, make_event, make_user):
    org = make_org(name="Sahel Forum")
    return {
        "org": org,
        "event": make_event(hosts=[org]),
        "staff": make_user("staff"),
        "partner": make_user("partner", org=org),
    }


def _url(template: str, world) -> str:
    return template.format(
        event=world["event"].id, org=world["org"].id, partner=world["partner"].id
    )


@pytest.mark.parametrize("template", PAGES)
def test_staff_see_every_staff_page(client, login, world, template):
    login(world["staff"])

    response = client.get(_url(template, world))

    assert response.status_code == 200
    if response.mimetype == "text/html":
        html = page(response)
        assert html.duplicate_ids() == []
        assert html.unlabelled_controls() == []


@pytest.mark.parametrize("template", PAGES)
def test_partners_are_refused_staff_pages(client, login, world, template):
    login(world["partner"])

    assert client.get(_url(template, world)).status_code == 403


@pytest.mark.parametrize("template", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, world, template):
    url = _url(template, world)

    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("template", POSTS)
def test_partners_cannot_post_to_staff_actions(client, login, world, template, counts):
    login(world["partner"])
    before = counts()

    response = client.post(_url(template, world), data={"comment": "x", "email": "a@b.org"})

    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("template", POSTS)
def test_anonymous_posts_are_sent_to_log_in(client, world, template):
    response = client.post(_url(template, world))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_unknown_event_organisation_or_user_is_not_found(client, login, world):
    login(world["staff"])

    for what in ("events/999999", "organisations/999999", "users/999999/deactivate"):
        assert client.get(f"/staff/{what}").status_code == 404, what


def test_the_workspace_menu_marks_where_you_are(client, login, world):
    login(world["staff"])

    overview = page(client.get("/staff/?lang=en")).one("nav", class_="staff-nav")
    event_page = page(client.get(f"/staff/events/{world['event'].id}?lang=en"))

    assert overview.one("a", aria_current="page").text == "Overview"
    menu = event_page.one("nav", class_="staff-nav")
    assert menu.one("a", aria_current="true").text == "Events"
    assert event_page.all("link", href="/static/css/staff.css")
