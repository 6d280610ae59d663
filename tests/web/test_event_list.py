"""The list of upcoming events, past events, filters and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from outreach.extensions import db
from outreach.models import EventStatus, utcnow
from tests.web.html import page


def titles(response) -> list[str]:
    return [e.text for e in page(response).all(class_="event-card__title")]


def test_upcoming_events_are_listed_soonest_first(client, make_event):
    now = utcnow()
    make_event(title="Later", starts_at=now + timedelta(days=20))
    make_event(title="Sooner", starts_at=now + timedelta(days=2))

    response = client.get("/")

    assert response.status_code == 200
    assert titles(response) == ["Sooner", "Later"]


def test_drafts_and_cancelled_events_are_not_listed(client, make_event):
    make_event(title="Visible")
    make_event(title="Draft", status=EventStatus.DRAFT)
    make_event(title="Submitted", status=EventStatus.SUBMITTED)
    make_event(title="Called off", status=EventStatus.CANCELLED)

    assert titles(client.get("/")) == ["Visible"]


def test_past_events_are_listed_apart_latest_first(client, make_event):
    now = utcnow()
    make_event(title="Coming", starts_at=now + timedelta(days=1))
    make_event(title="Long ago", starts_at=now - timedelta(days=60))
    make_event(title="Last week", starts_at=now - timedelta(days=7))

    assert titles(client.get("/")) == ["Coming"]
    past = client.get("/events/past")
    assert titles(past) == ["Last week", "Long ago"]
    assert page(past).one("h1").text == "Vergangene Veranstaltungen"


def test_the_list_links_to_past_events(client, make_event):
    make_event()

    links = page(client.get("/")).all("a", href="/events/past")

    assert links


def test_an_event_running_now_is_still_upcoming(client, make_event):
    now = utcnow()
    make_event(
        title="Running", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )

    assert titles(client.get("/")) == ["Running"]
    assert titles(client.get("/events/past")) == []


def test_filter_by_topic(client, make_event):
    make_event(title="Schooling", topics=["education"])
    make_event(title="Music", topics=["culture"])

    assert titles(client.get("/?topic=education")) == ["Schooling"]


def test_filter_by_language_of_the_event(client, make_event):
    make_event(title="Auf Deutsch", languages=["de"])
    make_event(title="In Arabic", languages=["ar", "en"])

    assert titles(client.get("/?language=ar")) == ["In Arabic"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("online", ["Webinar", "Hybrid"]), ("in_person", ["Hybrid", "Meeting"])],
)
def test_filter_by_format(client, make_event, value, expected):
    now = utcnow()
    make_event(
        title="Webinar",
        venue_name=None,
        venue_city=None,
        online_url="https://meet.example/w",
        starts_at=now + timedelta(days=1),
    )
    make_event(
        title="Hybrid", online_url="https://meet.example/h", starts_at=now + timedelta(days=2)
    )
    make_event(title="Meeting", starts_at=now + timedelta(days=3))

    assert titles(client.get(f"/?format={value}")) == expected


def test_filter_by_host_finds_joint_events(client, make_event, make_org):
    partner = make_org(slug="sahel-forum", name="Sahel Forum")
    other = make_org(slug="other")
    make_event(title="Joint", hosts=[other, partner])
    make_event(title="Alone", hosts=[other])

    assert titles(client.get("/?host=sahel-forum")) == ["Joint"]


def test_filters_combine(client, make_event):
    make_event(title="Both", topics=["health"], languages=["tr"])
    make_event(title="Topic only", topics=["health"], languages=["de"])

    assert titles(client.get("/?topic=health&language=tr")) == ["Both"]


def test_filters_that_match_nothing_offer_to_clear_them(client, make_event):
    make_event(topics=["culture"])

    response = client.get("/?topic=education")

    assert response.status_code == 200
    empty = page(response).one(class_="empty-state")
    assert "Keine Veranstaltung passt zu diesen Filtern." in empty.text
    assert empty.all("a", href="/")


def test_the_filter_form_keeps_the_chosen_values(client, make_event):
    make_event(topics=["culture"], languages=["fr"])

    form = page(client.get("/?topic=culture&language=fr&format=in_person"))

    assert form.one("option", value="culture").attrs.get("selected") == ""
    assert form.one("option", value="fr").attrs.get("selected") == ""
    assert form.one("option", value="in_person").attrs.get("selected") == ""


@pytest.mark.parametrize(
    "query",
    [
        "topic=%00",
        "language=" + "x" * 5000,
        "format=both",
        "host=%F0%9F%98%80",
        "page=-3",
        "page=abc",
        "page=99999999999999999999",
    ],
)
def test_odd_filter_values_never_break_the_list(client, make_event, query):
    make_event(title="Still here")

    response = client.get(f"/?{query}")

    assert response.status_code == 200


def test_no_events_at_all_says_so(client):
    response = client.get("/")

    assert "Zurzeit sind keine Veranstaltungen geplant." in page(response).text


def test_pagination_splits_the_list_and_keeps_the_filters(app, client, make_event):
    app.config["EVENTS_PER_PAGE"] = 2
    now = utcnow()
    for day in range(1, 6):
        make_event(title=f"Day {day}", topics=["culture"], starts_at=now + timedelta(days=day))
    make_event(title="Other topic", topics=["work"])

    first = client.get("/?topic=culture")
    third = client.get("/?topic=culture&page=3")

    assert titles(first) == ["Day 1", "Day 2"]
    assert titles(third) == ["Day 5"]
    nav = page(first).one("nav", class_="pagination")
    hrefs = [a.attrs["href"] for a in nav.all("a")]
    assert "/?page=2&topic=culture" in hrefs
    nav = page(third).one("nav", class_="pagination")
    assert [a.text for a in nav.all("a", aria_current="page")] == ["Seite 3"]


def test_a_page_past_the_end_is_empty_not_an_error(app, client, make_event):
    make_event()

    response = client.get("/?page=7")

    assert response.status_code == 200
    assert titles(response) == []


def test_listing_takes_the_same_number_of_queries_for_many_events(
    app, client, make_event, make_org
):
    hosts = [make_org(), make_org()]

    def queries_for_list() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    for _ in range(2):
        make_event(hosts=hosts, topics=["culture"], languages=["de", "en"], capacity=10)
    few = queries_for_list()
    for _ in range(8):
        make_event(hosts=hosts, topics=["work"], languages=["tr"], capacity=10)
    many = queries_for_list()

    assert many == few
