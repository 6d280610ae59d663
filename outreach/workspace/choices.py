"""What the event form offers to choose from: languages, time zones, organisations, topics."""

from __future__ import annotations

from babel import Locale
from babel.core import UnknownLocaleError
from flask import current_app
from flask_babel import get_locale
from wtforms import SelectChoice

from outreach.models import DEFAULT_TIMEZONE, Organisation, Topic

# Languages events of a diaspora network are often held in; German and English first.
EVENT_LANGUAGES = (
    "de",
    "en",
    "ar",
    "tr",
    "uk",
    "ru",
    "fa",
    "ps",
    "ku",
    "ckb",
    "vi",
    "fr",
    "es",
    "it",
    "pt",
    "pl",
    "ro",
    "bg",
    "el",
    "sq",
    "bs",
    "hr",
    "sr",
    "so",
    "ti",
    "am",
    "sw",
    "yo",
    "ha",
    "ur",
    "hi",
    "zh",
)
LEADING_LANGUAGES = ("de", "en")

# The zones of the network's cities and of the countries its communities come from.
TIME_ZONES = (
    DEFAULT_TIMEZONE,
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Paris",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Dakar",
    "Africa/Accra",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Africa/Addis_Ababa",
    "Africa/Johannesburg",
    "Asia/Beirut",
    "Asia/Damascus",
    "Asia/Baghdad",
    "Asia/Tehran",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Ho_Chi_Minh",
    "Asia/Shanghai",
    "America/New_York",
    "America/Sao_Paulo",
    "UTC",
)


def reader_locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def language_name(code: str) -> str:
    """Return the name of language ``code`` in the reader's language."""
    try:
        return Locale.parse(code).get_display_name(reader_locale()) or code
    except (UnknownLocaleError, ValueError):
        return code


def text_direction(code: str) -> str:
    try:
        return Locale.parse(code).text_direction
    except (UnknownLocaleError, ValueError):
        return "ltr"


def language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[SelectChoice]:
    """German and English first, then the other languages by their name; ``extra`` kept."""
    others = [code for code in dict.fromkeys((*EVENT_LANGUAGES, *extra))]
    others = [code for code in others if code not in LEADING_LANGUAGES]
    others.sort(key=lambda code: language_name(code).casefold())
    return [SelectChoice(code, language_name(code)) for code in (*LEADING_LANGUAGES, *others)]


def time_zone_choices(current: str | None = None) -> list[SelectChoice]:
    zones = list(TIME_ZONES)
    if current and current not in zones:
        zones.append(current)
    return [SelectChoice(zone, zone.replace("_", " ")) for zone in zones]


def organisation_options(organisations: list[Organisation]) -> list[SelectChoice]:
    return [SelectChoice(org.id, org.name) for org in organisations]


def topic_options(topics: list[Topic]) -> list[SelectChoice]:
    locale = reader_locale()
    return [SelectChoice(topic.slug, topic.name_in(locale)) for topic in topics]
