"""Organisations and user accounts as staff administer them.

Listing organisations and users, adding an organisation, inviting a partner
user (through ``account_links``), and switching accounts off and on again.
Every change lands in the audit log in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import Event, Organisation, User, event_hosts
from outreach.services import audit
from outreach.services.account_links import invite_partner_user
from outreach.services.applications import clean_website
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import clean_email, has_control_characters

MAX_NAME_LENGTH = 200
MAX_SLUG_LENGTH = 80
MAX_DESCRIPTION_LENGTH = 2000
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The fields of an organisation the audit log keeps.
ORGANISATION_FIELDS = ("name", "slug", "website", "contact_email", "description")


class CannotDeactivateSelf(DomainError):
    default_message = _l("You cannot deactivate your own account.")


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    users: int
    events: int


def organisations_overview() -> list[OrganisationRow]:
    """List every organisation by name, with how many users and events it has."""
    users = (
        select(func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    events = (
        select(func.count())
        .select_from(event_hosts)
        .where(event_hosts.c.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Organisation, users, events).order_by(func.lower(Organisation.name), Organisation.id)
    )
    return [OrganisationRow(org, user_count, event_count) for org, user_count, event_count in rows]


def organisation(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


def members(org: Organisation) -> list[User]:
    """List the organisation's users, active ones first, then by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == org.id)
            .order_by(User.is_active.desc(), func.lower(User.name), User.email)
        )
    )


def hosted_events(org: Organisation, *, limit: int = 200) -> list[Event]:
    """List the events the organisation (co-)hosts, in every state, the latest start first."""
    return list(
        db.session.scalars(
            select(Event)
            .join(event_hosts, event_hosts.c.event_id == Event.id)
            .options(selectinload(Event.translations))
            .where(event_hosts.c.organisation_id == org.id)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def all_users() -> list[User]:
    """List every account: staff first, then partner users by organisation and name."""
    return list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.organisation))
            .outerjoin(Organisation, Organisation.id == User.organisation_id)
            .order_by(
                User.role.desc(),  # "staff" sorts after "partner"
                func.lower(func.coalesce(Organisation.name, "")),
                func.lower(User.name),
                User.email,
            )
        )
    )


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


# -- organisations ----------------------------------------------------------------------


@dataclass
class OrganisationInput:
    """What staff say about a new organisation; an empty slug is made from the name."""

    name: str
    slug: str = ""
    website: str | None = None
    contact_email: str | None = None
    description: dict[str, str] = field(default_factory=dict)


def slugify(text: str) -> str:
    """Turn text into lower-case ASCII words joined by hyphens: 'Café Ümit' → 'cafe-umit'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_LENGTH].strip("-")


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None


def suggest_slug(name: str) -> str:
    """Make a free slug from ``name`` (numbered when the plain one is taken)."""
    base = slugify(name) or "organisation"
    slug, number = base, 1
    while _slug_taken(slug):
        number += 1
        suffix = f"-{number}"
        slug = base[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
    return slug


def _text(errors: dict[str, str], name: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = _("Please enter text.")
        return None
    value = value.strip()
    if len(value) > limit:
        errors[name] = _("Please use at most %(n)d characters.", n=limit)
    return value or None


def _clean_description(errors: dict[str, str], description: Any) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for locale, text in (description or {}).items() if isinstance(description, dict) else ():
        key = f"description.{locale}"
        if locale not in current_app.config["LANGUAGES"]:
            errors[key] = _("Please choose languages from the list.")
            continue
        text = _text(errors, key, text, MAX_DESCRIPTION_LENGTH)
        # Line breaks, tabs and the joiners some scripts need are fine.
        if text and has_control_characters(re.sub(r"[\r\n\t\u200c\u200d]", "", text)):
            errors[key] = _("The text contains characters we cannot use.")
        elif text:
            cleaned[locale] = text
    return cleaned


def _clean_organisation(data: OrganisationInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = _text(errors, "name", data.name, MAX_NAME_LENGTH)
    if name is None and "name" not in errors:
        errors["name"] = _("Please enter the organisation's name.")
    elif name and has_control_characters(name):
        errors["name"] = _("The name contains characters we cannot use.")
    elif name:
        name = " ".join(name.split())
        if db.session.scalar(
            select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
        ):
            errors["name"] = _("An organisation with this name exists already.")

    slug = _text(errors, "slug", data.slug, MAX_SLUG_LENGTH)
    if slug:
        slug = slug.lower()
        if not SLUG.match(slug):
            errors["slug"] = _(
                "Please use only lower-case letters, digits and hyphens, e.g. sahel-forum."
            )
        elif _slug_taken(slug):
            errors["slug"] = _("This short name is taken. Please choose another one.")
    elif name and "slug" not in errors:
        slug = suggest_slug(name)

    # The same rule as a partner application's website (it may become this organisation).
    try:
        website = clean_website(data.website)
    except ValueError as problem:
        errors["website"], website = str(problem), None

    contact = _text(errors, "contact_email", data.contact_email, 254)
    if contact:
        try:
            contact = clean_email(contact)
        except ValueError as problem:
            errors["contact_email"] = str(problem)

    description = _clean_description(errors, data.description)
    if errors:
        raise InvalidInput(errors)
    return {
        "name": name,
        "slug": slug,
        "website": website,
        "contact_email": contact,
        "description": description,
    }


def create_organisation(data: OrganisationInput, *, by: User) -> Organisation:
    """Add a partner organisation; commits. Raises InvalidInput naming each bad field."""
    values = _clean_organisation(data)
    try:
        org = Organisation(**values)
        db.session.add(org)
        db.session.flush()
        audit.record(
            "organisation.created",
            org,
            actor=by,
            changes=audit.changes({}, audit.snapshot(org, ORGANISATION_FIELDS)),
        )
        db.session.commit()
    except IntegrityError:
        # Someone took the same slug a moment ago.
        db.session.rollback()
        raise InvalidInput(
            {"slug": _("This short name is taken. Please choose another one.")}
        ) from None
    except BaseException:
        db.session.rollback()
        raise
    return org


# -- users ------------------------------------------------------------------------------


def invite_partner(org: Organisation, *, email: str, name: str, by: User) -> User:
    """Create a partner user of ``org`` and owe them an invitation link; commits.

    Raises InvalidInput (bad or taken address, a name we cannot put in a mail).
    """
    name = name if isinstance(name, str) else ""
    # Checked before spaces are collapsed, which would turn a line break into a space.
    if has_control_characters(name.strip()):
        raise InvalidInput({"name": _("The name contains characters we cannot use.")})
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput({"name": _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)})
    return invite_partner_user(email, org.slug, name, invited_by=by)


def _set_active(target: User, active: bool, *, by: User) -> User:
    try:
        begin_write()
        target = db.session.execute(
            select(User)
            .where(User.id == target.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        if target.is_active == active:
            db.session.rollback()
            return target
        target.is_active = active
        audit.record(
            "user.activated" if active else "user.deactivated",
            target,
            actor=by,
            changes={"is_active": [not active, active]},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return target


def deactivate_user(target: User, *, by: User) -> User:
    """Switch ``target``'s account off: no login, no sessions, no links; commits.

    Raises CannotDeactivateSelf when ``by`` is ``target``. Doing it twice is harmless.
    """
    if target.id == by.id:
        raise CannotDeactivateSelf()
    return _set_active(target, False, by=by)


def activate_user(target: User, *, by: User) -> User:
    """Switch ``target``'s account on again; commits. Doing it twice is harmless."""
    return _set_active(target, True, by=by)
