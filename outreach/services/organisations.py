"""An organisation's public profile and logo, as its own users (or staff) change them.

Every change lands in the audit log as ``organisation.updated`` in the same
transaction. Logos are checked by their content (never by their file name),
re-encoded without metadata to at most 512×512 pixels and stored under a
name derived from the organisation and the image: unguessable, and stable
for the same picture, so browsers may cache it for a long time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import Organisation, User
from outreach.policy import can_edit_organisation
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.images import NotAnImage, reencode
from outreach.services.registration_input import clean_email, has_control_characters

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_WEBSITE_LENGTH = 500
MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_SIZE = (512, 512)
LOGO_NAME = re.compile(r"^[0-9a-f]{32}\.(png|webp)$")
PROFILE_FIELDS = ("name", "description", "website", "contact_email")


class NotAllowed(DomainError):
    default_message = _l("You may not change this organisation.")


def logo_dir() -> Path:
    """The folder logos are stored in (LOGO_DIR, or instance/uploads/logos)."""
    configured = current_app.config.get("LOGO_DIR")
    return Path(configured) if configured else Path(current_app.instance_path, "uploads", "logos")


def _locked(org: Organisation) -> Organisation:
    """Begin a write transaction and return the organisation's fresh, locked row."""
    begin_write()
    return db.session.execute(
        select(Organisation)
        .where(Organisation.id == org.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# -- the profile -----------------------------------------------------------------------


def _clean_name(raw: Any, errors: dict[str, str]) -> str:
    name = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not name:
        errors["name"] = _("Please enter the organisation's name.")
    elif has_control_characters(raw.strip()):
        errors["name"] = _("The name contains characters we cannot use.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)
    return name


def _clean_description(raw: Any, errors: dict[str, str]) -> dict[str, str]:
    locales = current_app.config["LANGUAGES"]
    cleaned = {}
    for locale, text in (raw or {}).items() if isinstance(raw, dict) else ():
        text = text.strip() if isinstance(text, str) else ""
        if locale not in locales:
            errors[f"description.{locale}"] = _("Please choose languages from the list.")
        elif len(text) > MAX_DESCRIPTION_LENGTH:
            errors[f"description.{locale}"] = _(
                "Please use at most %(n)d characters.", n=MAX_DESCRIPTION_LENGTH
            )
        elif text:
            cleaned[locale] = text
    return cleaned


def _clean_website(raw: Any, errors: dict[str, str]) -> str | None:
    website = raw.strip() if isinstance(raw, str) else ""
    if not website:
        return None
    if len(website) > MAX_WEBSITE_LENGTH:
        errors["website"] = _("Please use at most %(n)d characters.", n=MAX_WEBSITE_LENGTH)
        return None
    # The address becomes a link on public pages: only plain web addresses are safe there.
    parts = urlsplit(website)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(char.isspace() for char in website)
        or has_control_characters(website)
    ):
        errors["website"] = _("Please give a web address starting with https://.")
        return None
    return website


def update_profile(
    org: Organisation,
    *,
    by: User,
    name: str,
    description: dict[str, str],
    website: str | None,
    contact_email: str | None,
) -> Organisation:
    """Change the organisation's name, description per language, website and contact; commits.

    Raises NotAllowed, or InvalidInput with the keys ``name``, ``description.<locale>``,
    ``website`` and ``contact_email``. Nothing changed, nothing is recorded.
    """
    if not can_edit_organisation(by, org):
        raise NotAllowed()
    errors: dict[str, str] = {}
    values = {
        "name": _clean_name(name, errors),
        "description": _clean_description(description, errors),
        "website": _clean_website(website, errors),
        "contact_email": None,
    }
    if isinstance(contact_email, str) and contact_email.strip():
        try:
            values["contact_email"] = clean_email(contact_email)
        except ValueError as problem:
            errors["contact_email"] = str(problem)
    if errors:
        raise InvalidInput(errors)
    try:
        org = _locked(org)
        before = audit.snapshot(org, PROFILE_FIELDS)
        for field_name, value in values.items():
            setattr(org, field_name, value)
        changed = audit.changes(before, audit.snapshot(org, PROFILE_FIELDS))
        if changed:
            audit.record("organisation.updated", org, actor=by, changes=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return org


# -- the logo ----------------------------------------------------------------------------


def _refuse(message: str) -> InvalidInput:
    return InvalidInput({"logo": message})


def _read_limited(stream: IO[bytes]) -> bytes:
    data = stream.read(MAX_LOGO_BYTES + 1)
    if not data:
        raise _refuse(_("Please choose an image file."))
    if len(data) > MAX_LOGO_BYTES:
        raise _refuse(_("The file is too large: a logo may have at most 2 MB."))
    return data


def encode_logo(data: bytes) -> tuple[bytes, str]:
    """Return the logo in ``data`` re-encoded without metadata, and its file extension.

    PNG pictures stay PNG (lossless, for drawn logos); photos become WebP.
    Raises InvalidInput (key ``logo``) when ``data`` is not such an image.
    """
    try:
        return reencode(data, LOGO_SIZE)
    except NotAnImage as problem:
        raise _refuse(str(problem)) from None


def _logo_name(org: Organisation, encoded: bytes, extension: str) -> str:
    digest = hashlib.sha256(f"organisation:{org.id}:".encode() + encoded).hexdigest()
    return f"{digest[:32]}.{extension}"


def _write_file(folder: Path, name: str, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _delete_file(name: str | None) -> None:
    """Delete a stored logo; names that are not ours are left alone."""
    if name and LOGO_NAME.fullmatch(name):
        (logo_dir() / name).unlink(missing_ok=True)


def _change_logo(org: Organisation, name: str | None, *, by: User) -> tuple[Organisation, str]:
    """Point the organisation at logo ``name`` and record it; return it and the old name."""
    org = _locked(org)
    old = org.logo_path
    org.logo_path = name
    if old != name:
        audit.record("organisation.updated", org, actor=by, changes={"logo_path": [old, name]})
    db.session.commit()
    return org, old


def set_logo(org: Organisation, stream: IO[bytes], *, by: User) -> Organisation:
    """Store the image read from ``stream`` as the organisation's logo; commits.

    Raises NotAllowed, or InvalidInput (key ``logo``) for a file that is too
    large, not an image, or an image of another type than PNG, JPEG or WebP.
    """
    if not can_edit_organisation(by, org):
        raise NotAllowed()
    encoded, extension = encode_logo(_read_limited(stream))
    name = _logo_name(org, encoded, extension)
    previous = org.logo_path
    _write_file(logo_dir(), name, encoded)
    try:
        org, old = _change_logo(org, name, by=by)
    except BaseException:
        db.session.rollback()
        if name != previous:
            _delete_file(name)
        raise
    if old != name:
        _delete_file(old)
    return org


def remove_logo(org: Organisation, *, by: User) -> Organisation:
    """Take the organisation's logo away and delete its file; commits. Raises NotAllowed."""
    if not can_edit_organisation(by, org):
        raise NotAllowed()
    try:
        org, old = _change_logo(org, None, by=by)
    except BaseException:
        db.session.rollback()
        raise
    _delete_file(old)
    return org
