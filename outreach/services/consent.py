"""The consent texts people agree to, and the privacy notice: versioned, per language.

Each purpose has a current version. The exact wording of every released
version, in every language, is a file in the repository::

    outreach/consent/wording/<purpose>/<version>.<language>.txt

A released wording never changes: tests/services/test_consent.py pins a
SHA-256 fingerprint of each file, so a new wording (or a new translation of
it) needs a new version, and the old files stay. That keeps every record
(``consent_version`` and ``consent_language`` on a registration, a
subscriber or a partner application) pointing at the words the person saw.

Wordings may hold placeholders such as ``%(hosts)s``; :meth:`ConsentText.text`
fills them in. The privacy notice is Markdown in
``outreach/consent/notice/<version>.<language>.md``, shown at ``/privacy``.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app, has_app_context

CONSENT_DIR = Path(__file__).resolve().parents[1] / "consent"
WORDING_DIR = CONSENT_DIR / "wording"
NOTICE_DIR = CONSENT_DIR / "notice"

# The privacy notice shown at /privacy now; a changed notice gets a new version.
NOTICE_VERSION = "2026-11"

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_FILE_NAME = re.compile(r"^(?P<version>[\w.-]+?)\.(?P<language>[a-z]{2,3}(?:_[A-Za-z]+)?)$")


class Purpose(enum.StrEnum):
    """What a person agrees to; each purpose has its own texts and versions."""

    REGISTRATION = "registration"
    # A registration made through the JSON API: the client app asked the person.
    API_REGISTRATION = "api-registration"
    NEWSLETTER = "newsletter"
    PARTNER_APPLICATION = "partner-application"


# The version each purpose asks for now. A new version is a new set of files, one per
# language, and a new fingerprint in tests/services/test_consent.py.
CURRENT_VERSIONS: dict[Purpose, str] = {
    Purpose.REGISTRATION: "2026-11",
    Purpose.API_REGISTRATION: "api-2026-11",
    Purpose.NEWSLETTER: "newsletter-2026-11",
    Purpose.PARTNER_APPLICATION: "partner-2026-11",
}


@dataclass(frozen=True)
class ConsentText:
    """One version of a purpose's consent in one language."""

    purpose: Purpose
    version: str
    language: str
    wording: str

    def text(self, **values: str) -> str:
        """Return the wording with its placeholders filled in (unknown ones stay as typed)."""
        return fill(self.wording, **values)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.wording)


@dataclass(frozen=True)
class Consent:
    """What a record keeps about a consent: which text, in which language."""

    version: str
    language: str


def fill(template: str, **values: str) -> str:
    """Replace each ``%(name)s`` in ``template`` by ``values[name]``; leave unknown ones."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), template)


def fingerprint(wording: str) -> str:
    """Return the SHA-256 (hex) of a wording, as the immutability test pins it."""
    return hashlib.sha256(wording.encode("utf-8")).hexdigest()


def _read(path: Path) -> str:
    # The file's final line break is not part of the wording.
    return path.read_text(encoding="utf-8").rstrip("\n")


@cache
def released() -> dict[tuple[Purpose, str, str], str]:
    """Return every released wording: ``{(purpose, version, language): wording}``."""
    found: dict[tuple[Purpose, str, str], str] = {}
    for purpose in Purpose:
        for path in sorted((WORDING_DIR / purpose.value).glob("*.txt")):
            match = _FILE_NAME.match(path.stem)
            if match is None:
                raise ValueError(f"consent wording {path} is not named <version>.<language>.txt")
            found[(purpose, match["version"], match["language"])] = _read(path)
    return found


def languages(purpose: Purpose, version: str | None = None) -> list[str]:
    """Return the languages a version (the current one by default) is written in."""
    version = version or CURRENT_VERSIONS[purpose]
    return sorted(lang for (p, v, lang) in released() if p is purpose and v == version)


def _fallbacks() -> list[str]:
    default = current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "de"
    return [default, "en"]


def shown_language(purpose: Purpose, wanted: str | None) -> str:
    """Return the language the current text is shown in for a reader of ``wanted``.

    That is ``wanted`` when the text exists in it, else the default language
    (or English, or whatever there is): the language to record is the one shown.
    """
    available = languages(purpose)
    if not available:
        raise LookupError(f"no wording for {purpose.value} {CURRENT_VERSIONS[purpose]}")
    for candidate in (wanted, *_fallbacks()):
        if candidate in available:
            return candidate
    return available[0]


def current(purpose: Purpose, language: str | None) -> ConsentText:
    """Return the current consent text of ``purpose`` as shown to a reader of ``language``."""
    version = CURRENT_VERSIONS[purpose]
    shown = shown_language(purpose, language)
    return ConsentText(purpose, version, shown, released()[(purpose, version, shown)])


def given(purpose: Purpose, language: str | None) -> Consent:
    """Return what to record for a consent given now by a reader of ``language``."""
    text = current(purpose, language)
    return Consent(version=text.version, language=text.language)


def wording_of(purpose: Purpose, version: str, language: str) -> ConsentText | None:
    """Return a released text (the one a record names), or None if there is no such text."""
    wording = released().get((purpose, version, language))
    if wording is None:
        return None
    return ConsentText(purpose, version, language, wording)


# -- the privacy notice ------------------------------------------------------------------


@cache
def _notice_files() -> dict[str, str]:
    return {
        path.name.removeprefix(f"{NOTICE_VERSION}.").removesuffix(".md"): _read(path)
        for path in sorted(NOTICE_DIR.glob(f"{NOTICE_VERSION}.*.md"))
    }


def notice_markdown(language: str) -> tuple[str, str]:
    """Return (language, Markdown) of the current privacy notice for a reader of ``language``.

    The Markdown holds placeholders (``%(site_name)s`` …) the page fills in.
    """
    files = _notice_files()
    for candidate in (language, *_fallbacks()):
        if candidate in files:
            return candidate, files[candidate]
    shown = sorted(files)[0]
    return shown, files[shown]
