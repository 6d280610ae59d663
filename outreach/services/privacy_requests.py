"""Data-protection requests a person makes on the public page, proven by a link to the address.

Anyone may ask at /privacy/request for a copy of the data held about an
address, or for its erasure. The answer is the same whatever we hold, and the
link always goes out (a person with no data learns so behind the link): the
page tells a stranger nothing. A request is a ``PrivacyRequest`` holding the
SHA-256 of a random token, and the mail with the token in its link is owed in
the same transaction. The same kind of request for the same address within
RESEND_WINDOW is dropped quietly, so nobody can flood a mailbox.

The link works for PRIVACY_REQUEST_MAX_AGE seconds. Opening it (GET) never
acts, because mail scanners open links: an export is confirmed by a button,
and then shown at the link, with a JSON download, for EXPORT_WINDOW; an
erasure needs two buttons, the second after a list of what will go. Once
erased, the request keeps only the address's salted hash.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.mail.suppression import hashed_address
from outreach.models import (
    MessageKind,
    PrivacyRequest,
    PrivacyRequestKind,
    PrivacyRequestStatus,
    utcnow,
)
from outreach.services import erasure, privacy
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import clean_email
from outreach.services.tokens import TOKEN_BYTES, TOKEN_PATTERN, hash_token

DEFAULT_MAX_AGE = 48 * 3600
RESEND_WINDOW = timedelta(minutes=10)
# How long a confirmed export stays on show at its link.
EXPORT_WINDOW = timedelta(hours=1)


class LinkInvalid(DomainError):
    """The link is unknown, expired, or its request is done with."""

    default_message = _l(
        "This link does not work (any more). Please ask again: we will send you a new link."
    )


class LinkState(enum.StrEnum):
    """Where a request behind a working link stands."""

    # Sent and opened; nothing done yet.
    PENDING = "pending"
    # An export, confirmed: on show at the link (and as JSON) for EXPORT_WINDOW.
    EXPORT_READY = "export_ready"
    # An erasure, confirmed once: the next button erases.
    ERASURE_CONFIRMED = "erasure_confirmed"
    # An erasure, carried out.
    ERASED = "erased"


def max_age() -> timedelta:
    """Return how long a link works after the request (PRIVACY_REQUEST_MAX_AGE)."""
    return timedelta(
        seconds=int(current_app.config.get("PRIVACY_REQUEST_MAX_AGE", DEFAULT_MAX_AGE))
    )


# -- asking ------------------------------------------------------------------------------


def _checked(email: Any, kind: Any) -> tuple[str, PrivacyRequestKind]:
    errors: dict[str, str] = {}
    address = ""
    try:
        address = clean_email(email)
    except ValueError as problem:
        errors["email"] = str(problem)
    try:
        chosen = PrivacyRequestKind(kind)
    except ValueError:
        errors["kind"] = _("Please choose what you would like us to do.")
    if errors:
        raise InvalidInput(errors)
    return address, chosen


def request_problems(email: Any, kind: Any) -> dict[str, str]:
    """Return every problem with a request by field (empty when it may be made)."""
    try:
        _checked(email, kind)
    except InvalidInput as problem:
        return problem.errors
    return {}


def _asked_recently(email: str, kind: PrivacyRequestKind, now: datetime) -> bool:
    return (
        db.session.scalar(
            select(PrivacyRequest.id)
            .where(
                PrivacyRequest.email == email,
                PrivacyRequest.kind == kind,
                PrivacyRequest.status == PrivacyRequestStatus.PENDING,
                PrivacyRequest.requested_at > now - RESEND_WINDOW,
            )
            .limit(1)
        )
        is not None
    )


def ask(email: Any, kind: Any, *, language: str, now: datetime | None = None) -> bool:
    """Record a request and owe the address the mail with its link; commits.

    Returns whether a mail is owed: False when the same request was made in
    the last RESEND_WINDOW (the caller must not tell the difference). Raises
    InvalidInput (keys ``email`` and ``kind``).
    """
    address, chosen = _checked(email, kind)
    now = now or utcnow()
    languages = current_app.config["LANGUAGES"]
    language = language if language in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        privacy.begin_privacy_write()
        if _asked_recently(address, chosen, now):
            db.session.rollback()
            return False
        token = secrets.token_urlsafe(TOKEN_BYTES)
        request = PrivacyRequest(
            kind=chosen,
            status=PrivacyRequestStatus.PENDING,
            email=address,
            email_hash=hashed_address(address),
            language=language,
            token_hash=hash_token(token),
            requested_at=now,
        )
        db.session.add(request)
        db.session.flush()
        enqueue(
            MessageKind.PRIVACY_REQUEST,
            recipient=address,
            language=language,
            dedupe_key=f"privacy_request:{request.id}",
            payload={"request": request.id, "token": token},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


# -- the link ----------------------------------------------------------------------------


def _state(request: PrivacyRequest, now: datetime) -> LinkState | None:
    """Say where ``request`` stands, or None when its link no longer works."""
    if request.status is PrivacyRequestStatus.COMPLETED:
        if request.kind is PrivacyRequestKind.ERASURE:
            return LinkState.ERASED if request.requested_at + max_age() > now else None
        shown_until = (request.completed_at or request.requested_at) + EXPORT_WINDOW
        return LinkState.EXPORT_READY if request.email and shown_until > now else None
    if request.email is None or request.requested_at + max_age() <= now:
        return None
    if request.status is PrivacyRequestStatus.CONFIRMED:
        return (
            LinkState.ERASURE_CONFIRMED
            if request.kind is PrivacyRequestKind.ERASURE
            else LinkState.PENDING
        )
    return LinkState.PENDING


def request_for_token(token: str, *, now: datetime | None = None) -> PrivacyRequest | None:
    """Return the request a link's token opens, or None if it is unknown or no longer works.

    The lookup is by hash: timing differences reveal nothing about the token.
    """
    # fullmatch: "$" alone would let a trailing newline through.
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    request = db.session.scalar(
        select(PrivacyRequest).where(PrivacyRequest.token_hash == hash_token(token))
    )
    if request is None or _state(request, now or utcnow()) is None:
        return None
    return request


def state_of(request: PrivacyRequest, *, now: datetime | None = None) -> LinkState | None:
    """Say where ``request`` stands now (None: its link no longer works)."""
    return _state(request, now or utcnow())


def link_is_current(request: PrivacyRequest, token: str, *, now: datetime) -> bool:
    """Tell whether the mail with ``token`` still has something to offer (for the worker)."""
    return request.token_hash == hash_token(token) and _state(request, now) is LinkState.PENDING


def _locked(token: str, now: datetime) -> tuple[PrivacyRequest, LinkState]:
    """Begin the write, fetch the token's request fresh; raise LinkInvalid if it no longer works."""
    privacy.begin_privacy_write()
    request = request_for_token(token, now=now)
    if request is None:
        raise LinkInvalid()
    db.session.refresh(request)
    state = _state(request, now)
    if state is None:
        raise LinkInvalid()
    return request, state


def confirm(token: str, *, now: datetime | None = None) -> PrivacyRequest:
    """Take the first button press behind a link; commits. Raises LinkInvalid.

    An export is given at once (and audited as ``person.exported``); an
    erasure is only marked confirmed, for the second press to carry out.
    Pressing again changes nothing.
    """
    now = now or utcnow()
    try:
        request, state = _locked(token, now)
        if state is LinkState.PENDING:
            request.confirmed_at = now
            if request.kind is PrivacyRequestKind.EXPORT:
                request.status = PrivacyRequestStatus.COMPLETED
                request.completed_at = now
                privacy.audited_export(request.email or "", by=None, request=request, fmt="html")
            else:
                request.status = PrivacyRequestStatus.CONFIRMED
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return request


def carry_out_erasure(token: str, *, now: datetime | None = None) -> erasure.ErasureSummary | None:
    """Erase the person behind a twice-confirmed erasure link; commits.

    Returns the summary, or None when it was erased already. Raises
    LinkInvalid, or erasure.CannotEraseLastStaff (then nothing changes).
    """
    now = now or utcnow()
    try:
        request, state = _locked(token, now)
        if state is LinkState.ERASED:
            db.session.rollback()
            return None
        if state is not LinkState.ERASURE_CONFIRMED:
            raise LinkInvalid()
        summary = erasure.erase_locked(request.email or "", by=None, request=request, now=now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


def export_for_download(token: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Return the export behind a confirmed link and audit it; commits. Raises LinkInvalid."""
    now = now or utcnow()
    request = request_for_token(token, now=now)
    if request is None or _state(request, now) is not LinkState.EXPORT_READY:
        db.session.rollback()
        raise LinkInvalid()
    return privacy.export(request.email or "", by=None, request=request, fmt="json", now=now)


def recent_requests(limit: int = 50) -> list[PrivacyRequest]:
    """Return the newest requests first: what people asked, and what became of it."""
    return list(
        db.session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit))
    )
