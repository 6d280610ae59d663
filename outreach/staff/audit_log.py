"""The audit log in words: who did what and when, and each changed field before → after."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from flask_babel import gettext as _

from outreach.models import AuditEntry, Topic
from outreach.staff.labels import AUDIT_ACTION, EVENT_STATUS, FIELD, TIME_FIELDS
from outreach.translation import pick_translation

# Long texts (descriptions) are cut to this many characters in the log.
MAX_VALUE_LENGTH = 300
EMPTY = "—"


@dataclass(frozen=True)
class ChangeRow:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryItem:
    entry: AuditEntry
    who: str
    what: str
    at: str
    changes: list[ChangeRow]


def _language(code: str, locale: str) -> str:
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code


def _leaves(path: list[str], before: Any, after: Any) -> Iterator[tuple[list[str], Any, Any]]:
    """Walk nested dicts down to the values that differ (a title in one language, say)."""
    if isinstance(before, dict) or isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        after = after if isinstance(after, dict) else {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                yield from _leaves([*path, str(key)], before.get(key), after.get(key))
    else:
        yield path, before, after


class _Formatter:
    """Turns field names and values into words, times in the subject's own zone."""

    def __init__(
        self,
        zone: ZoneInfo,
        locale: str,
        host_names: Mapping[str, str],
        topics: Mapping[str, Topic],
    ) -> None:
        self.zone = zone
        self.locale = locale
        self.host_names = host_names
        self.topics = topics

    def label(self, path: list[str]) -> str:
        if path[0] == "texts" and len(path) == 3:
            return _(
                "%(field)s (%(language)s)",
                field=FIELD.get(path[2], path[2]),
                language=_language(path[1], self.locale),
            )
        if path[0] == "description" and len(path) == 2:
            return _(
                "%(field)s (%(language)s)",
                field=FIELD["description"],
                language=_language(path[1], self.locale),
            )
        return " · ".join(str(FIELD.get(part, part)) for part in path)

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return EMPTY
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if field in TIME_FIELDS and isinstance(value, str):
            return self._time(value)
        if field == "status" and isinstance(value, str):
            return str(EVENT_STATUS.get(value, value))
        if field == "languages" and isinstance(value, list):
            return ", ".join(_language(str(code), self.locale) for code in value)
        if field == "questions" and isinstance(value, list):
            return "; ".join(self._question(question) for question in value)
        if field == "hosts" and isinstance(value, list):
            return ", ".join(self.host_names.get(str(slug), str(slug)) for slug in value)
        if field == "topics" and isinstance(value, list):
            return ", ".join(self._topic(str(slug)) for slug in value)
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        text = str(value)
        if len(text) > MAX_VALUE_LENGTH:
            return text[:MAX_VALUE_LENGTH].rstrip() + "…"
        return text

    def _time(self, value: str) -> str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return value
        return format_datetime(moment.astimezone(self.zone), "medium", locale=self.locale)

    def _topic(self, slug: str) -> str:
        topic = self.topics.get(slug)
        return topic.name_in(self.locale) if topic is not None else slug

    def _question(self, question: Any) -> str:
        if not isinstance(question, dict):
            return str(question)
        label = question.get("label")
        if isinstance(label, dict):
            return pick_translation(label, self.locale) or "?"
        return str(label or "?")

    def rows(self, changes: dict[str, Any]) -> list[ChangeRow]:
        rows = []
        for name, pair in (changes or {}).items():
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            for path, old, new in _leaves([name], before, after):
                field = path[-1] if path[0] == "texts" else path[0]
                rows.append(
                    ChangeRow(self.label(path), self.value(field, old), self.value(field, new))
                )
        return rows


def _who(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return entry.actor.name or entry.actor.email
    if entry.actor_id is None and entry.actor_label == "system":
        return _("The system")
    return entry.actor_label or _("The system")


def readable_history(
    entries: Iterable[AuditEntry],
    *,
    zone: ZoneInfo,
    locale: str,
    host_names: Mapping[str, str] | None = None,
    topics: Mapping[str, Topic] | None = None,
) -> list[HistoryItem]:
    """Describe ``entries`` (newest first as given) for a person to read.

    ``host_names`` and ``topics`` say what the slugs in hosts and topics stand for.
    """
    formatter = _Formatter(zone, locale, host_names or {}, topics or {})
    return [
        HistoryItem(
            entry=entry,
            who=_who(entry),
            what=str(AUDIT_ACTION.get(entry.action, entry.action)),
            at=format_datetime(entry.at.astimezone(zone), "medium", locale=locale),
            changes=formatter.rows(entry.changes),
        )
        for entry in entries
    ]
