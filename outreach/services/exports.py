"""Reading an event's registrations for the desk: the list, its counts, and the exports.

The list and the exports show the same people with the same columns; an
export is personal data leaving the system, so each one is written to the
audit log with who took it. Spreadsheet programs run a cell that starts
with ``=``, ``+``, ``-`` or ``@`` as a formula: every text cell that could
be read that way gets a leading apostrophe (OWASP's "CSV injection").
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import case, func, select

from outreach.extensions import db
from outreach.models import (
    Event,
    QuestionKind,
    Registration,
    RegistrationQuestion,
    RegistrationStatus,
    User,
)
from outreach.policy import can_see_registrations
from outreach.services import audit
from outreach.services.errors import DomainError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
STATUS_LABELS = {
    RegistrationStatus.PENDING: _l("Awaiting confirmation"),
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("On the waitlist"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


class NotExportable(DomainError):
    default_message = _l("You may not see the registrations of this event.")


def status_label(status: RegistrationStatus) -> str:
    """The status in words, in the current language."""
    return str(STATUS_LABELS[RegistrationStatus(status)])


# -- the list and its counts ---------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationCounts:
    """How many people registered, by status; guests counted apart."""

    confirmed: int = 0
    confirmed_guests: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    checked_in: int = 0

    @property
    def confirmed_people(self) -> int:
        """Confirmed registrations and the guests they bring: the seats taken."""
        return self.confirmed + self.confirmed_guests

    @property
    def total(self) -> int:
        return self.confirmed + self.waitlisted + self.cancelled


def registration_counts(event: Event) -> RegistrationCounts:
    """Count the event's registrations by status, and those checked in."""
    rows = db.session.execute(
        select(
            Registration.status,
            func.count(Registration.id),
            func.coalesce(func.sum(Registration.guests), 0),
            func.coalesce(func.sum(case((Registration.checked_in_at.is_not(None), 1), else_=0)), 0),
        )
        .where(Registration.event_id == event.id)
        .group_by(Registration.status)
    ).all()
    by_status = {
        RegistrationStatus(status): (n, guests, arrived) for status, n, guests, arrived in rows
    }
    confirmed, guests, arrived = by_status.get(RegistrationStatus.CONFIRMED, (0, 0, 0))
    return RegistrationCounts(
        confirmed=int(confirmed),
        confirmed_guests=int(guests),
        waitlisted=int(by_status.get(RegistrationStatus.WAITLISTED, (0, 0, 0))[0]),
        cancelled=int(by_status.get(RegistrationStatus.CANCELLED, (0, 0, 0))[0]),
        checked_in=int(arrived),
    )


def folded(text: str) -> str:
    """``text`` for matching: case and accents ignored, so "ozdemir" finds "Özdemir"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def find_registrations(
    event: Event, *, search: str = "", status: RegistrationStatus | str | None = None
) -> list[Registration]:
    """The event's registrations in the order they came, narrowed by words and status.

    Every word of ``search`` must appear in the name or the address. The
    matching happens here rather than in SQL: SQLite's LIKE ignores case for
    ASCII only, and people at the door type names without their accents.
    """
    query = select(Registration).where(Registration.event_id == event.id)
    if status:
        query = query.where(Registration.status == RegistrationStatus(status))
    registrations = db.session.scalars(
        query.order_by(Registration.created_at, Registration.id)
    ).all()
    words = folded(search).split()
    if not words:
        return list(registrations)
    return [
        registration
        for registration in registrations
        if registration.anonymised_at is None
        and all(word in folded(f"{registration.name} {registration.email}") for word in words)
    ]


# -- the table both exports share ------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationTable:
    """Column headings and one row per registration, every cell a string or a number."""

    headers: list[str]
    rows: list[list[str | int]]
    name: str
    sheet_title: str = "Registrations"


def _language_name(code: str, locale: str) -> str:
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (UnknownLocaleError, ValueError):
        return code


def answers_in_words(registration: Registration, locale: str) -> list[tuple[str, str]]:
    """Each question of the event the person answered, with the answer in words."""
    answers = registration.answers or {}
    return [
        (question.label_in(locale), _answer_in_words(question, answers[str(question.id)], locale))
        for question in registration.event.questions
        if answers.get(str(question.id)) not in (None, "", [])
    ]


def _answer_in_words(question: RegistrationQuestion, value: Any, locale: str) -> str:
    if question.kind is QuestionKind.CHECKBOX:
        return _("Yes") if value is True else _("No")
    if question.is_choice:
        labels = dict(question.choices_in(locale))
        chosen = value if isinstance(value, list) else [value] if value else []
        return ", ".join(labels.get(str(item), str(item)) for item in chosen)
    return "" if value is None else str(value)


def _local_time(value: datetime | None, event: Event, locale: str) -> str:
    if value is None:
        return ""
    return format_datetime(value.astimezone(event.zone), "yyyy-MM-dd HH:mm", locale=locale)


def registration_table(event: Event, locale: str) -> RegistrationTable:
    """Every registration of ``event`` with its answers, in ``locale``.

    One column per question, headed by its label; times are in the event's
    own zone.
    """
    questions = list(event.questions)
    with force_locale(locale):
        headers = [
            _("Name"),
            _("Email address"),
            _("Status"),
            _("Guests"),
            _("Language"),
            _("Registered at"),
            _("Checked in at"),
            *(
                question.label_in(locale) or _("Question %(n)d", n=n)
                for n, question in enumerate(questions, 1)
            ),
        ]
        rows = [
            [
                # An anonymised registration (services/retention.py) keeps only its numbers.
                _("Anonymised") if registration.anonymised_at else registration.name,
                "" if registration.anonymised_at else registration.email,
                status_label(registration.status),
                registration.guests,
                _language_name(registration.language, locale),
                _local_time(registration.created_at, event, locale),
                _local_time(registration.checked_in_at, event, locale),
                *(
                    _answer_in_words(
                        question, (registration.answers or {}).get(str(question.id)), locale
                    )
                    for question in questions
                ),
            ]
            for registration in find_registrations(event)
        ]
        title = _("Registrations")
    return RegistrationTable(headers=headers, rows=rows, name=event.slug, sheet_title=title)


def neutralised(value: str | int) -> str | int:
    """``value``, with an apostrophe in front if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_rows(table: RegistrationTable) -> list[list[str | int]]:
    return [[neutralised(cell) for cell in row] for row in [table.headers, *table.rows]]


def to_csv(table: RegistrationTable) -> bytes:
    """The table as CSV: UTF-8 with a byte order mark (so Excel reads the umlauts), commas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(_safe_rows(table))
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_cell(value: str | int) -> str | int:
    # Control characters are not allowed in the file format at all.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def to_xlsx(table: RegistrationTable) -> bytes:
    """The table as an Excel workbook with one sheet, the headings in bold."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.sheet_title[:31])
    sheet.freeze_panes = "A2"
    header, *rows = _safe_rows(table)
    bold = Font(bold=True)
    cells = []
    for value in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_cell(value))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        # Strings go in as strings: openpyxl would read a leading "=" as a formula.
        sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- the export, audited ---------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A finished export file."""

    content: bytes
    filename: str
    media_type: str


def export_registrations(event: Event, fmt: str, *, by: User, locale: str) -> Export:
    """Build the registration list of ``event`` as ``fmt`` (csv or xlsx) and audit it; commits.

    Raises NotExportable unless ``by`` may see the registrations.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not can_see_registrations(by, event):
        raise NotExportable()
    table = registration_table(event, locale)
    content = to_csv(table) if fmt == "csv" else to_xlsx(table)
    try:
        audit.record(
            "event.registrations_exported",
            event,
            actor=by,
            changes={"rows": [None, len(table.rows)]},
            comment=fmt,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Export(
        content=content,
        filename=f"{event.slug}-registrations.{fmt}",
        media_type=MEDIA_TYPES[fmt],
    )
