"""Checking API responses against the OpenAPI document.

``DocumentedClient`` wraps the Flask test client. Each response it returns
has already been checked: JSON content type, a status the document lists for
that route and method, a body valid against the documented schema (JSON
Schema 2020-12, as OpenAPI 3.1 has it) and the documented headers present.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/v1"
DOCUMENT_URI = "urn:outreach:openapi"


def openapi_path(rule: str) -> str:
    """Turn a Werkzeug rule (/api/v1/events/<slug>) into an OpenAPI path (/events/{slug})."""
    assert rule.startswith(API_PREFIX)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule[len(API_PREFIX) :])


class OpenAPIDocument:
    """The served document, and checks of responses against it."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.registry = Registry().with_resource(
            DOCUMENT_URI, DRAFT202012.create_resource(document)
        )

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow local references (#/components/…) to the node they name."""
        while "$ref" in node:
            assert node["$ref"].startswith("#/")
            target: Any = self.document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        if "$ref" in schema:
            schema = {"$ref": DOCUMENT_URI + schema["$ref"]}
        return Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def schema(self, name: str) -> Draft202012Validator:
        return self.validator({"$ref": f"#/components/schemas/{name}"})

    def operation_response(self, path: str, method: str, status: int) -> dict[str, Any]:
        operation = self.document["paths"][path][method.lower()]
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {path} answered {status}, not documented"
        return self.resolve(responses[str(status)])

    def check(self, path: str | None, method: str, response) -> None:
        assert response.mimetype == "application/json", response.data[:200]
        body = response.get_json()
        if path is None:  # no route matched: the generic JSON error
            self.schema("Error").validate(body)
            return
        documented = self.operation_response(path, method, response.status_code)
        schema = documented["content"]["application/json"]["schema"]
        self.validator(schema).validate(body)
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{header} missing on {response.status_code}"


class DocumentedClient:
    """The Flask test client, checking each response against the OpenAPI document."""

    def __init__(self, app, client, document: OpenAPIDocument):
        self.app = app
        self.client = client
        self.document = document

    def _documented_path(self, path: str, method: str) -> str | None:
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _args = adapter.match(path.split("?", 1)[0], method=method, return_rule=True)
        except HTTPException:
            return None
        return openapi_path(rule.rule)

    def open(self, method: str, path: str, **kwargs):
        response = self.client.open(path, method=method, **kwargs)
        self.document.check(self._documented_path(path, method), method, response)
        return response

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)
