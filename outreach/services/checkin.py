"""Checking people in at the door: signed check-in tokens, QR codes, and the marks.

A check-in token names a registration and nothing about the person; it is
signed with SECRET_KEY (its own salt), so it cannot be forged or guessed,
and it is only good for the event it was made for. The QR code on a
confirmation holds the check-in URL with that token: a staff or host phone
opens it (in the check-in page's scanner or any camera app) and lands on
the check-in step, which still asks who is logged in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import case, func, select

from outreach.extensions import db
from outreach.models import Event, Registration, RegistrationStatus, User, utcnow
from outreach.policy import can_check_in
from outreach.services import audit
from outreach.services.errors import DomainError
from outreach.services.locks import lock_event

CHECK_IN_PATH = "/check-in/scan/"


class NotCheckedIn(DomainError):
    """Only confirmed registrations of the event can be checked in."""

    default_message = _l("Only people with a confirmed seat can be checked in.")


class CheckInClosed(DomainError):
    """Check-in is for published events, by staff and the event's hosts."""

    default_message = _l("Check-in is only possible for published events.")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="outreach.check-in")


def check_in_token(registration: Registration) -> str:
    """The signed token a registration's QR code carries."""
    return _serializer().dumps([registration.id, registration.event_id])


def registration_for_check_in_token(token: str) -> Registration | None:
    """Return the registration a check-in token names, or None if it is bad or unknown."""
    try:
        registration_id, event_id = _serializer().loads(token)
        registration_id, event_id = int(registration_id), int(event_id)
    except (BadData, TypeError, ValueError):
        return None
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        return None
    return registration


def check_in_url(registration: Registration) -> str:
    """The address a registration's QR code holds."""
    return (
        f"{current_app.config['BASE_URL'].rstrip('/')}{CHECK_IN_PATH}{check_in_token(registration)}"
    )


def qr_svg(data: str, *, title: str = "") -> str:
    """An SVG QR code for ``data`` (scales with CSS; no size attributes)."""
    code = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=1,
        border=2,
        omitsize=True,
        title=title or None,
        xmldecl=False,
        svgns=True,
        nl=False,
    )
    svg = buffer.getvalue().decode("utf-8")
    # Named by its title for assistive technology, as an image and not a drawing's parts.
    return svg.replace("<svg ", '<svg role="img" ', 1) if title else svg


def qr_png(data: str, *, scale: int = 6) -> bytes:
    """A PNG QR code for ``data`` (for email, where SVG is not shown everywhere)."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def _locked(registration: Registration, by: User) -> Registration:
    registration_id = registration.id
    event = lock_event(registration.event_id)
    if not can_check_in(by, event):
        raise CheckInClosed()
    fresh = db.session.get(Registration, registration_id, populate_existing=True)
    assert fresh is not None
    return fresh


def check_in(registration: Registration, *, by: User, now: datetime | None = None) -> bool:
    """Mark the person as arrived; return False if they already were. Commits.

    Raises NotCheckedIn unless the registration is confirmed, CheckInClosed
    unless ``by`` may check people in at this event now.
    """
    try:
        registration = _locked(registration, by)
        if registration.status is not RegistrationStatus.CONFIRMED:
            raise NotCheckedIn()
        if registration.checked_in_at is not None:
            db.session.rollback()
            return False
        registration.checked_in_at = now or utcnow()
        registration.checked_in_by_id = by.id
        audit.record("registration.checked_in", registration, actor=by)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def undo_check_in(registration: Registration, *, by: User) -> bool:
    """Take a check-in back (a mistake at the door); return False if there was none. Commits."""
    try:
        registration = _locked(registration, by)
        if registration.checked_in_at is None:
            db.session.rollback()
            return False
        registration.checked_in_at = None
        registration.checked_in_by_id = None
        audit.record("registration.check_in_undone", registration, actor=by)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


@dataclass(frozen=True)
class CheckInCounts:
    """People (not seats) with a confirmed registration, and how many have arrived.

    Guests come with the person who registered them: they count as arrived
    when that person is checked in.
    """

    confirmed: int
    checked_in: int
    guests_expected: int
    guests_arrived: int = 0

    @property
    def missing(self) -> int:
        return self.confirmed - self.checked_in

    def as_dict(self) -> dict[str, int]:
        """The counts for JSON."""
        return {
            "confirmed": self.confirmed,
            "checked_in": self.checked_in,
            "missing": self.missing,
            "guests_expected": self.guests_expected,
            "guests_arrived": self.guests_arrived,
        }


def check_in_counts(event: Event) -> CheckInCounts:
    """Count the confirmed registrations of ``event`` and their guests, expected and arrived."""
    arrived = Registration.checked_in_at.is_not(None)
    confirmed, checked_in, guests, guests_arrived = db.session.execute(
        select(
            func.count(Registration.id),
            func.coalesce(func.sum(case((arrived, 1), else_=0)), 0),
            func.coalesce(func.sum(Registration.guests), 0),
            func.coalesce(func.sum(case((arrived, Registration.guests), else_=0)), 0),
        ).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).one()
    return CheckInCounts(int(confirmed), int(checked_in), int(guests), int(guests_arrived))
