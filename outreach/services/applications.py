"""Applications to become a partner organisation: receiving them, accepting, declining.

Applying writes the application and the "we received it" email in one
transaction. Accepting creates the organisation and invites the contact
person as its first partner user; declining owes the applicant an email.
Each decision is taken once, under a lock on the application's row, and is
recorded in the audit log.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from outreach.database import begin_write, is_postgresql
from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.models import (
    ApplicationStatus,
    MessageKind,
    Organisation,
    PartnerApplication,
    User,
    utcnow,
)
from outreach.policy import is_staff
from outreach.services import audit, consent
from outreach.services.account_links import invite_partner_user
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import (
    clean_email,
    clean_name,
    has_control_characters,
)

# What the consent checkbox on the form says now (the texts are in services/consent.py).
CONSENT_VERSION = consent.CURRENT_VERSIONS[consent.Purpose.PARTNER_APPLICATION]

# Languages an organisation may say it works in: the event languages and more.
# fmt: off
PARTNER_LANGUAGES = (
    "de", "en", "ar", "tr", "uk", "ru", "fa", "vi", "fr", "ku", "pl", "ro", "es", "it", "pt",
    "el", "bg", "sq", "bs", "hr", "sr", "ps", "ur", "hi", "zh", "so", "ti", "am", "sw",
)
# fmt: on

MAX_ORGANISATION_NAME_LENGTH = 200
MAX_CITY_LENGTH = 120
MAX_WEBSITE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 3000
MAX_NOTE_LENGTH = 2000
MAX_SLUG_LENGTH = 80
MAX_ID = 2**31 - 1  # the largest integer key, on PostgreSQL as on SQLite
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Zero-width (non-)joiners are part of correct spelling in Persian, Kurdish and Indic scripts.
JOINERS = frozenset("\u200c\u200d")


class ApplicationDecided(DomainError):
    """The application was accepted or declined already: it is decided once."""

    default_message = _l("This application has already been decided.")


class NotAllowed(DomainError):
    """Only staff decide on applications."""

    default_message = _l("Only staff can decide on applications.")


@dataclass
class ApplicationInput:
    """What an organisation submits on the form."""

    organisation_name: str
    contact_name: str
    contact_email: str
    description: str
    city: str = ""
    website: str = ""
    languages: list[str] = field(default_factory=list)
    consent: bool = False


@dataclass
class ApplicationOutcome:
    """The application; ``is_duplicate`` when an earlier pending one was found instead."""

    application: PartnerApplication
    is_duplicate: bool


# -- checking input -------------------------------------------------------------------


def _check_characters(text: str, *, allowed: frozenset[str] = JOINERS) -> None:
    if has_control_characters("".join(char for char in text if char not in allowed)):
        raise ValueError(_("This field contains characters we cannot use."))


def _one_line(raw: object, *, required_message: str, limit: int) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(required_message)
    _check_characters(raw.strip())
    text = " ".join(raw.split())
    if len(text) > limit:
        raise ValueError(_("Please use at most %(n)d characters.", n=limit))
    return text


def clean_website(raw: object) -> str | None:
    """Return the website as an http(s) address, or None when none was given."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise ValueError(_("Please enter a web address such as https://example.org."))
    text = raw.strip()
    if len(text) > MAX_WEBSITE_LENGTH:
        raise ValueError(_("Please use at most %(n)d characters.", n=MAX_WEBSITE_LENGTH))
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or "." not in host
        or any(char.isspace() for char in text)
        or has_control_characters(text)
    ):
        raise ValueError(_("Please enter a web address such as https://example.org."))
    return text


def _clean_languages(raw: object) -> list[str]:
    codes = list(dict.fromkeys(raw)) if isinstance(raw, list | tuple) else []
    if not codes:
        raise ValueError(_("Please choose at least one language."))
    if any(code not in PARTNER_LANGUAGES for code in codes):
        raise ValueError(_("Please choose languages from the list."))
    return codes


def _clean_long_text(raw: object, *, limit: int) -> str:
    """Return the text with its line breaks normalised; "" for nothing."""
    text = raw if isinstance(raw, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    _check_characters(text, allowed=JOINERS | {"\n", "\t"})
    if len(text) > limit:
        raise ValueError(_("Please use at most %(n)d characters.", n=limit))
    return text


def _clean_description(raw: object) -> str:
    text = _clean_long_text(raw, limit=MAX_DESCRIPTION_LENGTH)
    if not text:
        raise ValueError(_("Please tell us briefly what your organisation does."))
    return text


def clean_application(data: ApplicationInput) -> ApplicationInput:
    """Return ``data`` checked and normalised; raise InvalidInput naming each bad field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, object] = {}
    checks = {
        "organisation_name": lambda: _one_line(
            data.organisation_name,
            required_message=_("Please enter the name of your organisation."),
            limit=MAX_ORGANISATION_NAME_LENGTH,
        ),
        "website": lambda: clean_website(data.website),
        "city": lambda: _one_line(
            data.city, required_message=_("Please enter your city."), limit=MAX_CITY_LENGTH
        ),
        "contact_name": lambda: clean_name(data.contact_name),
        "contact_email": lambda: clean_email(data.contact_email),
        "languages": lambda: _clean_languages(data.languages),
        "description": lambda: _clean_description(data.description),
    }
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except ValueError as problem:
            errors[name] = str(problem)
    if data.consent is not True:
        errors["consent"] = _(
            "Please agree to how we use your data, or we cannot process your application."
        )
    if errors:
        raise InvalidInput(errors)
    return ApplicationInput(**cleaned, consent=True)


def application_problems(data: ApplicationInput) -> dict[str, str]:
    """Return what is wrong with ``data``, by field; empty when it is fine. Writes nothing."""
    try:
        clean_application(data)
    except InvalidInput as problem:
        return dict(problem.errors)
    return {}


def _same_name(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


# -- applying -------------------------------------------------------------------------


def _lock_applicant(email: str) -> None:
    """Serialise applications from one address, so two identical posts cannot both pass.

    SQLite's BEGIN IMMEDIATE (begin_write) already lets one writer in at a time;
    PostgreSQL takes a transaction-scoped advisory lock keyed by the address.
    """
    begin_write()
    if is_postgresql():
        digest = hashlib.sha256(f"partner-application:{email}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _pending_duplicate(data: ApplicationInput) -> PartnerApplication | None:
    candidates = db.session.scalars(
        select(PartnerApplication).where(
            PartnerApplication.contact_email == data.contact_email,
            PartnerApplication.status == ApplicationStatus.PENDING,
        )
    )
    return next(
        (old for old in candidates if _same_name(old.organisation_name, data.organisation_name)),
        None,
    )


def apply(
    data: ApplicationInput,
    *,
    language: str,
    consent_language: str | None = None,
    now: datetime | None = None,
) -> ApplicationOutcome:
    """Record an application and owe its contact a confirmation; commits.

    The application records the current consent text in the language it was
    shown in: ``consent_language``, or ``language`` (the page's) when none is
    given. A pending application from the same address for the same
    organisation is not made twice: the earlier one comes back, and no
    second email. Raises InvalidInput.
    """
    now = now or utcnow()
    data = clean_application(data)
    agreed = consent.given(consent.Purpose.PARTNER_APPLICATION, consent_language or language)
    try:
        _lock_applicant(data.contact_email)
        existing = _pending_duplicate(data)
        if existing is not None:
            db.session.commit()
            return ApplicationOutcome(existing, is_duplicate=True)
        application = PartnerApplication(
            organisation_name=data.organisation_name,
            website=data.website,
            city=data.city,
            contact_name=data.contact_name,
            contact_email=data.contact_email,
            languages=list(data.languages),
            description=data.description,
            language=language,
            consent_version=agreed.version,
            consent_language=agreed.language,
            consented_at=now,
            status=ApplicationStatus.PENDING,
            created_at=now,
        )
        db.session.add(application)
        db.session.flush()
        enqueue(
            MessageKind.APPLICATION_RECEIVED,
            recipient=application.contact_email,
            recipient_name=application.contact_name,
            language=language,
            dedupe_key=f"application_received:{application.id}",
            payload={"application": application.id},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return ApplicationOutcome(application, is_duplicate=False)


# -- deciding -------------------------------------------------------------------------


def _lock(application_id: int) -> PartnerApplication:
    """Begin a write transaction holding the application's row; return it fresh."""
    begin_write()
    return db.session.execute(
        select(PartnerApplication)
        .where(PartnerApplication.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _decide(
    application: PartnerApplication, status: ApplicationStatus, *, by: User, now: datetime
) -> dict[str, list]:
    before = audit.snapshot(application, ("status",))
    application.status = status
    application.decided_at = now
    application.decided_by_id = by.id
    return audit.changes(before, audit.snapshot(application, ("status",)))


def clean_slug(raw: object) -> str:
    """Return the organisation's short name for addresses, or raise InvalidInput."""
    slug = raw.strip().lower() if isinstance(raw, str) else ""
    if not slug:
        raise InvalidInput({"slug": _("Please enter a short name for the web address.")})
    if len(slug) > MAX_SLUG_LENGTH or not SLUG.match(slug):
        raise InvalidInput(
            {
                "slug": _(
                    "Please use only lower-case letters a–z, digits and single hyphens "
                    "(at most %(n)d characters).",
                    n=MAX_SLUG_LENGTH,
                )
            }
        )
    return slug


def _slug_is_taken(slug: str) -> bool:
    return db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None


def suggested_slug(name: str) -> str:
    """Propose a free short name for an organisation called ``name``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:70].strip("-")
    base = base or "partner"
    slug, number = base, 1
    while _slug_is_taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug


def accept(
    application: PartnerApplication, *, by: User, slug: str, now: datetime | None = None
) -> PartnerApplication:
    """Create the organisation, invite the contact as its partner user; commits.

    Everything that could refuse is checked before anything is written, so
    a refusal leaves no organisation, user, email or audit entry behind.
    Raises InvalidInput (``slug`` taken or malformed, ``email`` already a
    user), ApplicationDecided or NotAllowed.
    """
    now = now or utcnow()
    if not is_staff(by):
        raise NotAllowed()
    slug = clean_slug(slug)
    try:
        application = _lock(application.id)
        if not application.is_pending:
            raise ApplicationDecided()
        if _slug_is_taken(slug):
            raise InvalidInput({"slug": _("An organisation with this short name exists already.")})
        email_taken = db.session.scalar(
            select(User.id).where(User.email == application.contact_email)
        )
        if email_taken is not None:
            raise InvalidInput({"email": _("A user with this email address exists already.")})

        organisation = Organisation(
            slug=slug,
            name=application.organisation_name,
            website=application.website,
            contact_email=application.contact_email,
            description={application.language: application.description},
        )
        db.session.add(organisation)
        db.session.flush()
        changes = _decide(application, ApplicationStatus.ACCEPTED, by=by, now=now)
        application.organisation_id = organisation.id
        changes["organisation"] = [None, slug]
        audit.record("application.accepted", application, actor=by, changes=changes)
        # The user and their invitation commit together with all of the above.
        invite_partner_user(
            application.contact_email,
            slug,
            application.contact_name,
            invited_by=by,
            language=application.language,
            welcome=True,
        )
    except BaseException:
        db.session.rollback()
        raise
    return application


def decline(
    application: PartnerApplication, *, by: User, note: str = "", now: datetime | None = None
) -> PartnerApplication:
    """Decline the application and owe the applicant an email with ``note``; commits.

    Raises InvalidInput (note too long), ApplicationDecided or NotAllowed.
    """
    now = now or utcnow()
    if not is_staff(by):
        raise NotAllowed()
    try:
        note = _clean_long_text(note, limit=MAX_NOTE_LENGTH)
    except ValueError as problem:
        raise InvalidInput({"note": str(problem)}) from None
    try:
        application = _lock(application.id)
        if not application.is_pending:
            raise ApplicationDecided()
        changes = _decide(application, ApplicationStatus.DECLINED, by=by, now=now)
        application.decision_note = note or None
        audit.record(
            "application.declined", application, actor=by, changes=changes, comment=note or None
        )
        enqueue(
            MessageKind.APPLICATION_DECLINED,
            recipient=application.contact_email,
            recipient_name=application.contact_name,
            language=application.language,
            dedupe_key=f"application_declined:{application.id}",
            payload={"application": application.id},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return application


# -- reading --------------------------------------------------------------------------


def application_by_id(application_id: int) -> PartnerApplication | None:
    """Return the application with this id, or None (also for ids no column can hold)."""
    if not 0 < application_id <= MAX_ID:
        return None
    return db.session.get(PartnerApplication, application_id)


def applications_for_review(*, decided_limit: int = 200) -> list[PartnerApplication]:
    """Return the pending applications, oldest first, then the latest decided ones."""
    pending = db.session.scalars(
        select(PartnerApplication)
        .where(PartnerApplication.status == ApplicationStatus.PENDING)
        .order_by(PartnerApplication.created_at, PartnerApplication.id)
    ).all()
    decided = db.session.scalars(
        select(PartnerApplication)
        .where(PartnerApplication.status != ApplicationStatus.PENDING)
        .order_by(PartnerApplication.decided_at.desc(), PartnerApplication.id.desc())
        .limit(decided_limit)
    ).all()
    return [*pending, *decided]


def pending_count() -> int:
    """Count the applications that wait for a decision (for the staff dashboard)."""
    return db.session.scalar(
        select(func.count(PartnerApplication.id)).where(
            PartnerApplication.status == ApplicationStatus.PENDING
        )
    )


def decided_by(application: PartnerApplication) -> User | None:
    """Return the staff member who decided, if still known."""
    if application.decided_by_id is None:
        return None
    return db.session.get(User, application.decided_by_id)
