"""Check and normalise what a person submits when registering.

The web form and the JSON API both end here, so a rule is written once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from outreach.models import Event, QuestionKind, RegistrationQuestion
from outreach.services.errors import InvalidInput

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254


@dataclass
class RegistrationDetails:
    name: str
    email: str
    language: str
    guests: int = 0
    answers: Mapping[str, Any] = field(default_factory=dict)
    consent: bool = False


@dataclass
class RegistrationChanges:
    guests: int
    language: str
    answers: Mapping[str, Any] = field(default_factory=dict)


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} for char in text)


# What running text may hold besides printable characters: line breaks, tabs, and
# the zero-width (non-)joiners that Persian and Kurdish spelling needs.
_TEXT_LAYOUT = str.maketrans("", "", "\r\n\t\u200c\u200d")


def has_unsafe_text_characters(text: str) -> bool:
    """Whether multi-line text holds control characters (NUL, escapes, …) besides layout."""
    return has_control_characters(text.translate(_TEXT_LAYOUT))


# Zero-width (non-)joiners are spelling in Persian and Kurdish names, not disguise.
_JOINERS = str.maketrans("", "", "\u200c\u200d")


def has_unsafe_name_characters(text: str) -> bool:
    """Whether a one-line name holds line breaks, controls or invisible characters."""
    # U+2028 and U+2029 are line breaks too, though not control characters.
    if any(unicodedata.category(char) in {"Zl", "Zp"} for char in text):
        return True
    return has_control_characters(text.translate(_JOINERS))


def clean_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(_("Please enter your name."))
    # Names end up in mail headers: line breaks and invisible characters are refused.
    # Checked before spaces are collapsed, which would turn a line break into a space.
    if has_unsafe_name_characters(raw.strip()):
        raise ValueError(_("The name contains characters we cannot use."))
    name = " ".join(raw.split())
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(_("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH))
    return name


def clean_email(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(_("Please enter your email address."))
    if len(raw) > MAX_EMAIL_LENGTH:
        raise ValueError(_("This email address is too long."))
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(_("Please enter a valid email address.")) from None
    return checked.normalized.lower()


def clean_language(raw: Any, supported: Collection[str]) -> str:
    if raw not in supported:
        raise ValueError(_("Please choose one of the offered languages."))
    return raw


def clean_guests(raw: Any, event: Event) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(_("Please enter a whole number."))
    if raw < 0 or raw > event.max_guests:
        if event.max_guests == 0:
            raise ValueError(_("This event does not allow guests."))
        raise ValueError(_("Please choose between 0 and %(n)d guests.", n=event.max_guests))
    return raw


def clean_answer(question: RegistrationQuestion, raw: Any) -> Any:
    """Return the stored form of one answer, or None when it was left empty."""
    kind = question.kind
    if kind is QuestionKind.CHECKBOX:
        if raw in (None, False, ""):
            if question.required:
                raise ValueError(_("Please tick this box to continue."))
            return False
        if raw is not True:
            raise ValueError(_("Please tick the box or leave it empty."))
        return True

    if kind is QuestionKind.MULTIPLE_CHOICE:
        values = [] if raw is None else raw
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(_("Please choose from the offered options."))
        if not set(values) <= question.option_values:
            raise ValueError(_("Please choose from the offered options."))
        if question.required and not values:
            raise ValueError(_("Please choose at least one option."))
        return [v for v in question.option_values_in_order() if v in values] or None

    if raw is not None and not isinstance(raw, str):
        raise ValueError(_("Please enter text."))
    text = (raw or "").strip()
    if not text:
        if question.required:
            raise ValueError(_("This question needs an answer."))
        return None
    if kind is QuestionKind.SINGLE_CHOICE:
        if text not in question.option_values:
            raise ValueError(_("Please choose from the offered options."))
        return text
    limit = RegistrationQuestion.MAX_TEXT_LENGTH[kind]
    if len(text) > limit:
        raise ValueError(_("Please use at most %(n)d characters.", n=limit))
    if has_control_characters(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise ValueError(_("The answer contains characters we cannot use."))
    return text


def clean_answers(event: Event, answers: Mapping[str, Any], errors: dict[str, str]) -> dict:
    """Check every answer against the event's questions; collect errors by field."""
    if not isinstance(answers, Mapping):
        errors["answers"] = _("Answers must be given per question.")
        return {}
    known = {str(question.id): question for question in event.questions}
    unknown = set(map(str, answers)) - set(known)
    if unknown:
        errors["answers"] = _(
            "These questions do not belong to this event: %(ids)s", ids=", ".join(sorted(unknown))
        )
    cleaned: dict[str, Any] = {}
    for key, question in known.items():
        try:
            value = clean_answer(question, answers.get(key, answers.get(int(key))))
        except ValueError as problem:
            errors[f"answers.{key}"] = str(problem)
            continue
        if value not in (None, False):
            cleaned[key] = value
    return cleaned


def clean_details(
    event: Event, details: RegistrationDetails, supported: Collection[str]
) -> RegistrationDetails:
    """Return ``details`` normalised, or raise InvalidInput naming each bad field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, check in (
        ("name", clean_name),
        ("email", clean_email),
        ("language", lambda raw: clean_language(raw, supported)),
        ("guests", lambda raw: clean_guests(raw, event)),
    ):
        try:
            cleaned[name] = check(getattr(details, name))
        except ValueError as problem:
            errors[name] = str(problem)
    cleaned["answers"] = clean_answers(event, details.answers, errors)
    if details.consent is not True:
        errors["consent"] = _("Please agree to how we use your data, or we cannot register you.")
    if errors:
        raise InvalidInput(errors)
    return RegistrationDetails(consent=True, **cleaned)


def clean_changes(
    event: Event, changes: RegistrationChanges, supported: Collection[str]
) -> RegistrationChanges:
    errors: dict[str, str] = {}
    guests = language = None
    try:
        guests = clean_guests(changes.guests, event)
    except ValueError as problem:
        errors["guests"] = str(problem)
    try:
        language = clean_language(changes.language, supported)
    except ValueError as problem:
        errors["language"] = str(problem)
    answers = clean_answers(event, changes.answers, errors)
    if errors:
        raise InvalidInput(errors)
    return RegistrationChanges(guests=guests, language=language, answers=answers)
