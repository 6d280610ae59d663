"""Every string a person can read has a German translation."""

from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from tests.conftest import REPO_ROOT, TRANSLATIONS

KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SOURCES = [
    ("python", "outreach/**/*.py"),
    ("jinja2", "templates/**/*.html"),
    ("jinja2", "templates/**/*.txt"),
]


def _msgids() -> dict[str, str]:
    """Every msgid in the code and templates, with a place it comes from."""
    found: dict[str, str] = {}
    for method, pattern in SOURCES:
        for path in sorted(REPO_ROOT.glob(pattern)):
            for line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=KEYWORDS
            ):
                msgid = message[0] if isinstance(message, tuple) else message
                if msgid:
                    found.setdefault(msgid, f"{path.relative_to(REPO_ROOT)}:{line}")
    return found


def test_every_string_has_a_german_translation():
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)

    missing = []
    for msgid, where in _msgids().items():
        message = catalog.get(msgid)
        strings = message.string if message else None
        translated = all(strings) if isinstance(strings, tuple) else bool(strings)
        if not translated or (message and message.fuzzy):
            missing.append(f"{where}: {msgid!r}")

    assert not missing, (
        "Untranslated strings; run pybabel extract -F babel.cfg -k _l -k lazy_gettext "
        "-o /tmp/messages.pot . && pybabel update -i /tmp/messages.pot -d "
        "outreach/translations, then translate:\n" + "\n".join(missing)
    )


def test_placeholders_survive_translation():
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)

    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        placeholders = {p for text in ids for p in _placeholders(text)}
        for text in strings:
            assert _placeholders(text) == placeholders, (message.id, text)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\([a-z_]+\)[sd]", text))
