"""Registration questions in the event form: rows of kind, label and answers per language.

Each row has a kind (or "no question", which leaves the row out), a
"required" box, the question in each interface language and, for choice
kinds, the answers one per line in each language: line n of every language
is the same answer. Answers keep the value they had, so that saving an
unchanged form changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, SelectChoice, SelectField, StringField, TextAreaField

from outreach.models import QuestionKind, RegistrationQuestion
from outreach.services.event_editing import QuestionInput
from outreach.workspace.choices import language_name, text_direction

MAX_LABEL_LENGTH = 300
CHOICE_KINDS = {QuestionKind.SINGLE_CHOICE.value, QuestionKind.MULTIPLE_CHOICE.value}
QUESTION_KINDS = (
    SelectChoice("", _l("No question")),
    SelectChoice(QuestionKind.SHORT_TEXT.value, _l("Short text answer")),
    SelectChoice(QuestionKind.LONG_TEXT.value, _l("Long text answer")),
    SelectChoice(QuestionKind.SINGLE_CHOICE.value, _l("One answer from a list")),
    SelectChoice(QuestionKind.MULTIPLE_CHOICE.value, _l("Several answers from a list")),
    SelectChoice(QuestionKind.CHECKBOX.value, _l("Yes/no checkbox")),
)


def field_name(row: int, part: str, locale: str | None = None) -> str:
    """The name of one field of question row ``row``: kind, required, label_de, options_en…"""
    return f"question{row}_{part}" + (f"_{locale}" if locale else "")


def add_fields(form_class: type, rows: int, locales: tuple[str, ...]) -> None:
    """Add ``rows`` question rows to ``form_class`` (built per request: labels name languages)."""
    for row in range(rows):
        setattr(
            form_class,
            field_name(row, "kind"),
            SelectField(
                _l("Kind of question"),
                choices=QUESTION_KINDS,
                default="",
                invalid_choice_message=_l("Please choose a kind of question."),
            ),
        )
        setattr(form_class, field_name(row, "required"), BooleanField(_l("An answer is required")))
        for locale in locales:
            language = {"lang": locale, "dir": text_direction(locale)}
            name = language_name(locale)
            setattr(
                form_class,
                field_name(row, "label", locale),
                StringField(
                    _("Question (%(language)s)", language=name),
                    render_kw={"maxlength": MAX_LABEL_LENGTH, **language},
                ),
            )
            setattr(
                form_class,
                field_name(row, "options", locale),
                TextAreaField(
                    _("Answers to choose from (%(language)s)", language=name),
                    description=_l("For a list: one answer per line."),
                    render_kw={"rows": 4, **language},
                ),
            )


def row_fields(form: Any, row: int, locales: tuple[str, ...]) -> list[Field]:
    """The fields of one row in page order."""
    names = [field_name(row, "kind"), field_name(row, "required")]
    names += [field_name(row, "label", locale) for locale in locales]
    names += [field_name(row, "options", locale) for locale in locales]
    return [form[name] for name in names]


def initial_data(questions: list[RegistrationQuestion], locales: tuple[str, ...]) -> dict:
    """The rows' values that show ``questions`` as they are."""
    data: dict[str, Any] = {}
    for row, question in enumerate(questions):
        data[field_name(row, "kind")] = question.kind.value
        data[field_name(row, "required")] = question.required
        labels = question.label or {}
        for locale in locales:
            data[field_name(row, "label", locale)] = labels.get(locale, "")
            lines = []
            # A language with no answer labels stays empty; one with some gets all lines.
            if any(locale in (option.get("label") or {}) for option in question.options or []):
                lines = [_option_label(option, locale) for option in question.options]
            data[field_name(row, "options", locale)] = "\n".join(lines)
    return data


def _option_label(option: dict, locale: str) -> str:
    labels = option.get("label") or {}
    return labels.get(locale) or next(iter(labels.values()), "") or option.get("value", "")


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def check_answer_lines(form: Any, rows: int, locales: tuple[str, ...]) -> bool:
    """Mark choice rows whose languages list different numbers of answers; return if all fit."""
    fits = True
    for row in range(rows):
        if form[field_name(row, "kind")].data not in CHOICE_KINDS:
            continue
        counts = {
            locale: len(_lines(form[field_name(row, "options", locale)].data)) for locale in locales
        }
        given = [count for count in counts.values() if count]
        if len(set(given)) > 1:
            fits = False
            target = form[field_name(row, "options", locales[-1])]
            target.errors = [
                *target.errors,
                _("Please write the same number of answers in each language, one per line."),
            ]
    return fits


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def _options(
    form: Any, row: int, locales: tuple[str, ...], existing: RegistrationQuestion | None
) -> list[dict[str, Any]]:
    lines = {locale: _lines(form[field_name(row, "options", locale)].data) for locale in locales}
    lines = {locale: given for locale, given in lines.items() if given}
    count = max((len(given) for given in lines.values()), default=0)
    old = list(existing.options or []) if existing is not None and existing.is_choice else []
    options, used = [], set()
    for number in range(count):
        label = {locale: given[number] for locale, given in lines.items() if number < len(given)}
        previous = old[number] if number < len(old) else None
        if previous is not None:
            # Labels in languages the form does not show are kept as they were.
            kept = previous.get("label") or {}
            label = {**{k: v for k, v in kept.items() if k not in locales}, **label}
        value = previous["value"] if previous is not None else ""
        if not value or value in used:
            value = _slug(next(iter(label.values()), "")) or f"option-{number + 1}"
            while value in used:
                value = f"{value}-{number + 1}"
        used.add(value)
        options.append({"value": value, "label": label})
    return options


def read_questions(
    form: Any, rows: int, locales: tuple[str, ...], existing: list[RegistrationQuestion]
) -> tuple[list[QuestionInput], list[int]]:
    """The questions the rows ask, and for each of them the row it came from."""
    questions, rows_used = [], []
    for row in range(rows):
        kind = form[field_name(row, "kind")].data
        if not kind:
            continue
        before = existing[row] if row < len(existing) else None
        label = {
            locale: (form[field_name(row, "label", locale)].data or "").strip()
            for locale in locales
        }
        label = {locale: text for locale, text in label.items() if text}
        if before is not None:
            kept = {k: v for k, v in (before.label or {}).items() if k not in locales}
            label = {**kept, **label}
        questions.append(
            QuestionInput(
                kind=kind,
                label=label,
                required=bool(form[field_name(row, "required")].data),
                options=_options(form, row, locales, before) if kind in CHOICE_KINDS else [],
            )
        )
        rows_used.append(row)
    return questions, rows_used
