"""Fixtures for the JSON API tests: a client checked against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from outreach.api.openapi import openapi_document
from outreach.models import QuestionKind
from tests.api.documented import DocumentedClient, OpenAPIDocument


@pytest.fixture
def openapi(app) -> OpenAPIDocument:
    return OpenAPIDocument(
        openapi_document(base_url=app.config["BASE_URL"], languages=app.config["LANGUAGES"])
    )


@pytest.fixture
def api(app, client, openapi) -> DocumentedClient:
    return DocumentedClient(app, client, openapi)


QUESTIONS = [
    {"kind": QuestionKind.SHORT_TEXT, "required": True, "label": {"de": "Ort", "en": "Town"}},
    {"kind": QuestionKind.LONG_TEXT, "label": {"de": "Barrierefreiheit", "en": "Access needs"}},
    {
        "kind": QuestionKind.SINGLE_CHOICE,
        "label": {"de": "Dolmetschen", "en": "Interpretation"},
        "options": [
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
            {"value": "uk", "label": {"de": "Ukrainisch", "en": "Ukrainian"}},
        ],
    },
    {
        "kind": QuestionKind.MULTIPLE_CHOICE,
        "label": {"de": "Essen", "en": "Food"},
        "options": [
            {"value": "vegan", "label": {"de": "vegan", "en": "vegan"}},
            {"value": "halal", "label": {"de": "halal", "en": "halal"}},
        ],
    },
    {"kind": QuestionKind.CHECKBOX, "label": {"de": "Fotos ok", "en": "Photos ok"}},
]


@pytest.fixture
def event_with_questions(make_event):
    """An online-and-in-person event with one question of every kind."""

    def make(**values):
        values.setdefault("questions", QUESTIONS)
        values.setdefault("online_url", "https://meet.example.org/secret-room")
        values.setdefault("max_guests", 2)
        return make_event(**values)

    return make


@pytest.fixture
def registration_body():
    """A valid JSON body; keywords replace fields (answers must match the event)."""
    numbers = iter(range(1, 1_000_000))

    def build(**values) -> dict[str, Any]:
        body = {
            "name": "Amina Yusuf",
            "email": f"amina{next(numbers)}@example.org",
            "language": "en",
            "guests": 0,
            "answers": {},
            "consent": True,
        }
        body.update(values)
        return body

    return build
