"""Partner organisations' contributions to the newsletter: submitting and changing them.

A partner user writes a contribution for their organisation: a title and a
Markdown text per language, and optionally a picture. It can be changed
while it is SUBMITTED; once staff have accepted or declined it, it is fixed.
Every change lands in the audit log in the same transaction.

Pictures are checked by their content like organisation logos (the same
checks: PNG, JPEG or WebP, no decompression bombs), re-encoded without
metadata to at most 1200×1200 pixels, and stored under a random name.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import Contribution, ContributionStatus, Organisation, User
from outreach.policy import can_edit_organisation, is_partner
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.images import NotAnImage, reencode
from outreach.services.registration_input import (
    has_control_characters,
    has_unsafe_text_characters,
)

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 10_000
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_SIZE = (1200, 1200)
IMAGE_NAME = re.compile(r"^[0-9a-f]{32}\.(png|webp)$")
AUDITED_FIELDS = ("texts", "image_path")


class NotAllowed(DomainError):
    default_message = _l("You may not change this contribution.")


class ContributionLocked(DomainError):
    """Staff have decided on the contribution: it is no longer the partner's to change."""

    default_message = _l(
        "This contribution has been reviewed and can no longer be changed. "
        "Please write to the team if something must change."
    )


@dataclass
class ContributionInput:
    """Title and Markdown text per language: ``{locale: {"title": ..., "body": ...}}``."""

    texts: dict[str, dict[str, str]]


# -- the picture -------------------------------------------------------------------------


def image_dir() -> Path:
    """The folder pictures are stored in (CONTRIBUTION_IMAGE_DIR, or instance/uploads/...)."""
    configured = current_app.config.get("CONTRIBUTION_IMAGE_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.instance_path, "uploads", "contributions")


def image_url(name: str | None) -> str | None:
    """Return the absolute address of a stored picture (for mail and web), or None."""
    if not name or not IMAGE_NAME.fullmatch(name):
        return None
    return f"{current_app.config['BASE_URL'].rstrip('/')}/newsletter/images/{name}"


def _image_problem(message: str) -> InvalidInput:
    return InvalidInput({"image": message})


def encode_image(data: bytes) -> tuple[bytes, str]:
    """Return the picture in ``data`` re-encoded without metadata, and its file extension.

    PNG stays PNG (drawings, screenshots); photos become WebP. Raises
    InvalidInput (key ``image``) when ``data`` is not such a picture.
    """
    if not data:
        raise _image_problem(_("Please choose an image file."))
    if len(data) > MAX_IMAGE_BYTES:
        raise _image_problem(_("The file is too large: a picture may have at most 2 MB."))
    try:
        return reencode(data, IMAGE_SIZE)
    except NotAnImage as problem:
        raise _image_problem(str(problem)) from None


def _read_image(stream: IO[bytes] | None) -> tuple[bytes, str] | None:
    if stream is None:
        return None
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if not data:
        return None  # no file chosen: keep the picture as it is
    return encode_image(data)


def _store_image(encoded: bytes, extension: str) -> str:
    name = f"{secrets.token_hex(16)}.{extension}"
    folder = image_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(encoded)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return name


def _delete_image(name: str | None) -> None:
    """Delete a stored picture; names that are not ours are left alone."""
    if name and IMAGE_NAME.fullmatch(name):
        (image_dir() / name).unlink(missing_ok=True)


# -- the texts ---------------------------------------------------------------------------


def _clean_one(locale: str, raw: Any, errors: dict[str, str]) -> dict[str, str] | None:
    raw = raw if isinstance(raw, dict) else {}
    title = raw.get("title") if isinstance(raw.get("title"), str) else ""
    body = raw.get("body") if isinstance(raw.get("body"), str) else ""
    title, body = " ".join(title.split()), body.strip().replace("\r\n", "\n")
    if not title and not body:
        return None
    if not title:
        errors[f"{locale}.title"] = _("Please give this language version a title.")
    elif has_control_characters(title):
        errors[f"{locale}.title"] = _("The title contains characters we cannot use.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors[f"{locale}.title"] = _("Please use at most %(n)d characters.", n=MAX_TITLE_LENGTH)
    if not body:
        errors[f"{locale}.body"] = _("Please write the text of this language version.")
    elif has_unsafe_text_characters(body):
        errors[f"{locale}.body"] = _("The text contains characters we cannot use.")
    elif len(body) > MAX_BODY_LENGTH:
        errors[f"{locale}.body"] = _("Please use at most %(n)d characters.", n=MAX_BODY_LENGTH)
    return {"title": title, "body": body}


def clean_texts(raw: Any) -> dict[str, dict[str, str]]:
    """Return the language versions that have content; raise InvalidInput naming each problem.

    Keys: ``<locale>.title``, ``<locale>.body``, and ``texts`` when no language has any.
    """
    locales = current_app.config["LANGUAGES"]
    raw = raw if isinstance(raw, dict) else {}
    errors: dict[str, str] = {}
    cleaned = {}
    for locale in locales:
        version = _clean_one(locale, raw.get(locale), errors)
        if version is not None:
            cleaned[locale] = version
    if not cleaned:
        errors["texts"] = _("Please write a title and a text in at least one language.")
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _checked(data: ContributionInput, image: IO[bytes] | None) -> tuple[dict, tuple | None]:
    """Check texts and picture together, so the form names every problem at once."""
    errors: dict[str, str] = {}
    texts: dict[str, dict[str, str]] = {}
    encoded = None
    try:
        texts = clean_texts(data.texts)
    except InvalidInput as problem:
        errors.update(problem.errors)
    try:
        encoded = _read_image(image)
    except InvalidInput as problem:
        errors.update(problem.errors)
    if errors:
        raise InvalidInput(errors)
    return texts, encoded


# -- submitting and changing -------------------------------------------------------------


def submit_contribution(
    data: ContributionInput, *, by: User, image: IO[bytes] | None = None
) -> Contribution:
    """Submit a contribution for ``by``'s organisation; commits.

    Raises NotAllowed (not a partner user), or InvalidInput (texts, ``image``).
    """
    if not is_partner(by):
        raise NotAllowed()
    texts, encoded = _checked(data, image)
    name = _store_image(*encoded) if encoded else None
    try:
        begin_write()
        contribution = Contribution(
            organisation_id=by.organisation_id,
            texts=texts,
            image_path=name,
            status=ContributionStatus.SUBMITTED,
            submitted_by_id=by.id,
        )
        db.session.add(contribution)
        db.session.flush()
        audit.record(
            "contribution.submitted",
            contribution,
            actor=by,
            changes=audit.changes({}, audit.snapshot(contribution, AUDITED_FIELDS)),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _delete_image(name)
        raise
    return contribution


def _locked(contribution: Contribution) -> Contribution:
    begin_write()
    return db.session.execute(
        select(Contribution)
        .where(Contribution.id == contribution.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def update_contribution(
    contribution: Contribution,
    data: ContributionInput,
    *,
    by: User,
    image: IO[bytes] | None = None,
    remove_image: bool = False,
) -> Contribution:
    """Change a submitted contribution's texts, and replace or remove its picture; commits.

    Raises NotAllowed, ContributionLocked (reviewed already), or InvalidInput.
    """
    if not can_edit_organisation(by, contribution.organisation):
        raise NotAllowed()
    if contribution.status is not ContributionStatus.SUBMITTED:
        raise ContributionLocked()
    texts, encoded = _checked(data, image)
    name = _store_image(*encoded) if encoded else None
    try:
        contribution = _locked(contribution)
        if contribution.status is not ContributionStatus.SUBMITTED:
            raise ContributionLocked()
        before = audit.snapshot(contribution, AUDITED_FIELDS)
        old_image = contribution.image_path
        contribution.texts = texts
        if name or remove_image:
            contribution.image_path = name
        changed = audit.changes(before, audit.snapshot(contribution, AUDITED_FIELDS))
        if changed:
            audit.record("contribution.updated", contribution, actor=by, changes=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _delete_image(name)
        raise
    if contribution.image_path != old_image:
        _delete_image(old_image)
    return contribution


# -- reading -----------------------------------------------------------------------------


def contributions_of(organisation: Organisation) -> list[Contribution]:
    """Return the organisation's contributions, newest first, with their issues."""
    return list(
        db.session.scalars(
            select(Contribution)
            .where(Contribution.organisation_id == organisation.id)
            .options(selectinload(Contribution.issue))
            .order_by(Contribution.created_at.desc(), Contribution.id.desc())
        )
    )


def contribution_for(user: User, contribution_id: int) -> Contribution | None:
    """Return the contribution if ``user`` may work on it (their organisation's), else None."""
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None or not can_edit_organisation(user, contribution.organisation):
        return None
    return contribution


def title_of(contribution: Contribution, locale: str) -> str:
    """Return the contribution's title in ``locale``, or in another language it has."""
    texts = contribution.texts or {}
    for code in (locale, *texts):
        title = (texts.get(code) or {}).get("title")
        if title:
            return title
    return ""
