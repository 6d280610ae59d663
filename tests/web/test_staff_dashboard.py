"""The staff dashboard: what is coming up, what waits for review, mail and applications."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import ApplicationStatus, EventStatus, PartnerApplication, utcnow
from tests.web.html import page


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff")
    login(user)
    return user


def _application(status: ApplicationStatus = ApplicationStatus.PENDING) -> PartnerApplication:
    application = PartnerApplication(
        organisation_name="Anadolu Kulturverein",
        contact_name="Deniz",
        contact_email="deniz@example.org",
        description="Kulturarbeit",
        language="de",
        consent_version="1",
        consented_at=utcnow(),
        status=status,
    )
    db.session.add(application)
    db.session.commit()
    return application


def test_an_empty_dashboard_says_so_in_every_section(client, staff):
    html = page(client.get("/staff/?lang=en"))

    assert "No published events are coming up." in html.by_id("upcoming-heading").parent.text
    assert "Nothing is waiting for review." in html.by_id("review-heading").parent.text
    assert "No mail has been sent yet." in html.by_id("mail-heading").parent.text
    assert "No applications are waiting." in html.by_id("applications-heading").parent.text


def test_upcoming_events_show_how_full_they_are(client, staff, make_event, make_registration):
    soon = make_event(title="Elternabend", capacity=2, starts_at=utcnow() + timedelta(days=1))
    later = make_event(title="Lesung", starts_at=utcnow() + timedelta(days=5))
    make_event(title="Entwurf", status=EventStatus.DRAFT)
    make_event(title="Vorbei", starts_at=utcnow() - timedelta(days=3))
    for _ in range(3):
        make_registration(soon)
    make_registration(later, guests=0)

    html = page(client.get("/staff/?lang=en"))

    rows = html.by_id("upcoming-heading").parent.one("tbody").all("tr")
    cells = [[cell.text for cell in row.all("td")] for row in rows]
    assert [row[0] for row in cells] == ["Elternabend", "Lesung"]
    assert cells[0][2] == "2 of 2 100 %" and cells[0][3] == "1"
    assert cells[1][2] == "1 (no limit)" and cells[1][3] == "0"
    assert rows[0].one("span", class_="fill__bar--100")


def test_pending_applications_are_counted(client, staff):
    _application()
    _application()
    _application(ApplicationStatus.DECLINED)

    html = page(client.get("/staff/?lang=en"))

    link = html.by_id("applications-heading").parent.one("a", href="/staff/applications")
    assert link.text == "2 applications wait for an answer."
