"""Reading event bodies for the write endpoints, and the event as its editors see it.

The JSON mirrors ``EventInput`` (outreach/services/event_editing.py): the
same field names, times as ISO 8601 with an offset, hosts and topics as
slugs. Here only shapes and JSON types are checked; the service checks the
values, so the API and the web form refuse the same things in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from outreach.api.schemas import InvalidRequest, event_detail
from outreach.models import Event
from outreach.services.event_editing import (
    LANGUAGE_CODE,
    MAX_HOSTS,
    EventInput,
    QuestionInput,
)
from outreach.services.events import organisation
from outreach.services.registration_input import MAX_EMAIL_LENGTH
from outreach.services.scheduling import TEXT_LIMITS, TRANSLATION_LIMITS

TEXT_FIELDS = ("title", "summary", "description")
MAX_LIST_ITEMS = 20
# The service refuses too many questions and options; this only bounds the work done here.
MAX_ITEMS_READ = 100
MAX_TIMESTAMP_LENGTH = 40
MAX_ZONE_LENGTH = 64
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
REQUIRED_ON_CREATE = ("texts", "starts_at", "ends_at")


class _Problem(ValueError):
    """A field's value has the wrong JSON shape; the message is for people."""


def _unusable(text: str) -> bool:
    """NUL and lone surrogates: valid in JSON, refused by databases and mail."""
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Problem(_("Please send a string."))
    if _unusable(value):
        raise _Problem(_("The text contains characters we cannot use."))
    return value


def _string_or_null(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Problem(_("Please send a string or null."))
    return _string(value)


def _at_most(limit: int, text: str) -> str:
    """Refuse text longer than the document allows, before any trimming: as it was sent."""
    if len(text) > limit:
        raise _Problem(_("Please use at most %(n)d characters.", n=limit))
    return text


def _text_or_null(limit: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        text = _string_or_null(value)
        return None if text is None else _at_most(limit, text)

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Problem(_("Please send true or false."))
    return value


def _whole_number_or_null(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Problem(_("Please send a whole number or null."))
    return value


def _moment(value: Any) -> datetime:
    """An ISO 8601 date and time with an offset, in UTC."""
    example = _("Please send a date and time with its offset, e.g. 2027-03-14T18:00:00+01:00.")
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP_LENGTH:
        raise _Problem(example)
    try:
        parsed = datetime.fromisoformat(value)
        moment = parsed.astimezone(UTC) if parsed.utcoffset() is not None else None
    except (ValueError, OverflowError):
        raise _Problem(example) from None
    if moment is None:
        raise _Problem(example)
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise _Problem(
            _(
                "Please give a date between %(low)d and %(high)d.",
                low=EARLIEST_YEAR,
                high=LATEST_YEAR,
            )
        )
    return moment


def _moment_or_null(value: Any) -> datetime | None:
    return None if value is None else _moment(value)


def _zone(value: Any) -> str:
    value = _string(value)
    if len(value) > MAX_ZONE_LENGTH:  # longer than any IANA name; ZoneInfo would choke on it
        raise _Problem(_("Please choose a known time zone."))
    return value


def _strings(limit: int) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Problem(_("Please send a list of strings."))
        if len(value) > limit:
            raise _Problem(_("Please send at most %(n)d items.", n=limit))
        return [_string(item) for item in value]

    return check


# The fields a body may set besides texts and questions, each with the check of its JSON type.
SCALARS: dict[str, Callable[[Any], Any]] = {
    "starts_at": _moment,
    "ends_at": _moment,
    "timezone": _zone,
    "venue_name": _text_or_null(TEXT_LIMITS["venue_name"]),
    "venue_address": _text_or_null(TEXT_LIMITS["venue_address"]),
    "venue_city": _text_or_null(TEXT_LIMITS["venue_city"]),
    "online_url": _text_or_null(TEXT_LIMITS["online_url"]),
    "capacity": _whole_number_or_null,
    "waitlist_enabled": _boolean,
    "max_guests": _whole_number_or_null,
    "registration_opens_at": _moment_or_null,
    "registration_closes_at": _moment_or_null,
    "contact_email": _text_or_null(MAX_EMAIL_LENGTH),
    "languages": _strings(MAX_LIST_ITEMS),
    "topics": _strings(MAX_LIST_ITEMS),
    "hosts": _strings(MAX_HOSTS),
    "reminders_enabled": _boolean,
}


# -- texts ----------------------------------------------------------------------------


def _texts(
    value: Any, fields: dict[str, str], current: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]] | None:
    """Merge ``value`` onto ``current``: a language set to null is removed (merge patch)."""
    if not isinstance(value, dict):
        fields["texts"] = _(
            "Please send an object with a version per language, "
            'e.g. {"de": {"title": "…", "summary": "…", "description": "…"}}.'
        )
        return None
    texts = {locale: dict(version) for locale, version in current.items()}
    for locale, version in value.items():
        if not LANGUAGE_CODE.fullmatch(locale):
            fields[f"texts.{locale[:20]}"] = _("Please choose languages from the list.")
            continue
        if version is None:
            texts.pop(locale, None)
            continue
        if not isinstance(version, dict) or set(version) - set(TEXT_FIELDS):
            fields[f"texts.{locale}"] = _(
                "Please send an object with title, summary and description."
            )
            continue
        merged = texts.setdefault(locale, {name: "" for name in TEXT_FIELDS})
        for name, text in version.items():
            try:
                cleaned = "" if text is None else _string(text)
                merged[name] = _at_most(TRANSLATION_LIMITS[name], cleaned)
            except _Problem as problem:
                fields[f"{locale}.{name}"] = str(problem)
    return texts


# -- questions ---------------------------------------------------------------------------


def _label(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(text, str) and LANGUAGE_CODE.fullmatch(locale) for locale, text in value.items()
    ):
        raise _Problem(_('Please send the text per language, e.g. {"de": "…", "en": "…"}.'))
    return {locale: _string(text) for locale, text in value.items()}


def _options(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS_READ:
        raise _Problem(_("Please send a list of answers, each with a value and a label."))
    options = []
    for option in value:
        if (
            not isinstance(option, dict)
            or set(option) - {"value", "label"}
            or not isinstance(option.get("value"), str)
        ):
            raise _Problem(_("Please send a list of answers, each with a value and a label."))
        options.append(
            {"value": _string(option["value"]), "label": _label(option.get("label", {}))}
        )
    return options


def _question(value: Any, name: str, fields: dict[str, str]) -> QuestionInput | None:
    if not isinstance(value, dict):
        fields[name] = _("Please send an object with kind, label, required and options.")
        return None
    parts: dict[str, Any] = {}
    checks: dict[str, Callable[[Any], Any]] = {
        "kind": _string,
        "label": _label,
        "required": _boolean,
        "options": _options,
    }
    for key, item in value.items():
        check = checks.get(key)
        if check is None:
            fields[f"{name}.{key[:40]}"] = _("This field is not part of a question.")
            continue
        try:
            parts[key] = check(item)
        except _Problem as problem:
            fields[f"{name}.{key}"] = str(problem)
    if "kind" not in value:
        fields[f"{name}.kind"] = _("This field is required.")
    if any(key.startswith(name + ".") for key in fields):
        return None
    return QuestionInput(
        kind=parts["kind"],
        label=parts.get("label", {}),
        required=parts.get("required", False),
        options=parts.get("options", []),
    )


def _questions(value: Any, fields: dict[str, str]) -> list[QuestionInput] | None:
    if not isinstance(value, list):
        fields["questions"] = _("Please send a list of questions.")
        return None
    if len(value) > MAX_ITEMS_READ:
        fields["questions"] = _("Please send at most %(n)d items.", n=MAX_ITEMS_READ)
        return None
    questions = [_question(item, f"questions.{n}", fields) for n, item in enumerate(value)]
    return [question for question in questions if question is not None]


# -- hosts ---------------------------------------------------------------------------------


def _host_ids(slugs: list[str], fields: dict[str, str]) -> list[int]:
    ids = []
    for slug in slugs:
        org = organisation(slug) if 0 < len(slug) <= 120 else None
        if org is None:
            fields.setdefault("hosts", _("There is no organisation %(slug)s.", slug=slug[:120]))
            continue
        ids.append(org.id)
    return ids


# -- reading bodies ------------------------------------------------------------------------


def _read(data: Mapping[str, Any], current: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Check the JSON types of ``data``; return EventInput keywords or raise InvalidRequest."""
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "texts":
            values["texts"] = _texts(value, fields, current)
        elif name == "questions":
            values["questions"] = _questions(value, fields)
        elif name in SCALARS:
            try:
                values[name] = SCALARS[name](value)
            except _Problem as problem:
                fields[name] = str(problem)
        else:
            fields[name[:60]] = _("This field is not part of an event.")
    if "hosts" in values and "hosts" not in fields:
        values["hosts"] = _host_ids(values["hosts"], fields)
    if fields:
        raise InvalidRequest(fields)
    return values


def event_input_for_new(data: Mapping[str, Any]) -> EventInput:
    """Read the body of ``POST /events`` into an EventInput; raise InvalidRequest."""
    missing = {name: _("This field is required.") for name in REQUIRED_ON_CREATE}
    missing = {name: message for name, message in missing.items() if name not in data}
    try:
        values = _read(data, {})
    except InvalidRequest as problem:
        raise InvalidRequest({**missing, **problem.fields}) from None
    if missing:
        raise InvalidRequest(missing)
    return EventInput(**values)


def event_input_for_change(event: Event, data: Mapping[str, Any]) -> EventInput:
    """Merge the body of ``PATCH /events/{slug}`` onto what ``event`` holds now.

    Fields left out stay as they are; questions only change when sent.
    """
    current = EventInput.from_event(event)
    values = _read(data, current.texts)
    values.setdefault("questions", None)
    return replace(current, **values)


def optional_text(data: Mapping[str, Any], name: str | None = None, *, limit: int = 0) -> str:
    """Read a body that may carry one optional text field ``name`` (a reason, a comment).

    ``limit`` is the most characters the text may have as sent, before any trimming.
    """
    fields: dict[str, str] = {}
    for key, value in data.items():
        if key != name:
            fields[key[:60]] = _("This field is not part of this request.")
            continue
        try:
            _text_or_null(limit)(value)
        except _Problem as problem:
            fields[key] = str(problem)
    if fields:
        raise InvalidRequest(fields)
    return (data.get(name) if name else None) or ""


# -- shaping responses ---------------------------------------------------------------------


def _utc_or_none(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def event_record(event: Event, now: datetime) -> dict[str, Any]:
    """An event in any state, with what only its editors see (the online link, capacity…)."""
    return {
        **event_detail(event, now),
        "online_url": event.online_url or None,
        "capacity": event.capacity,
        "contact_email": event.contact_email,
        "registration_opens_at": _utc_or_none(event.registration_opens_at),
        "registration_closes_at": _utc_or_none(event.registration_closes_at),
        "reminders_enabled": event.reminders_enabled,
        "review_comment": event.review_comment,
        "cancellation_reason": event.cancellation_reason,
    }
