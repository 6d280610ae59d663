"""The OpenAPI document: valid, served, and in step with the routes.

That each response matches its documented schema is checked on every call
the other API tests make (the ``api`` fixture in conftest.py).
"""

from __future__ import annotations

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.api.documented import API_PREFIX, openapi_path

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_served_document_is_valid_openapi_3_1(api):
    response = api.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_served_document_is_the_one_the_tests_check_against(api, openapi):
    assert api.get("/api/v1/openapi.json").get_json() == openapi.document


def test_every_api_route_is_documented_with_exactly_its_methods(app, openapi):
    routed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX + "/"):
            methods = {method.lower() for method in rule.methods} - {"head", "options"}
            routed.setdefault(openapi_path(rule.rule), set()).update(methods)

    documented = {
        path: set(item) & HTTP_METHODS for path, item in openapi.document["paths"].items()
    }

    assert routed == documented


def test_every_documented_response_is_json_with_a_valid_schema(openapi):
    for path, item in openapi.document["paths"].items():
        for method in set(item) & HTTP_METHODS:
            responses = item[method]["responses"]
            assert "429" in responses, f"{method} {path} does not document the rate limit"
            for status, response in responses.items():
                content = openapi.resolve(response)["content"]
                assert set(content) == {"application/json"}, (path, method, status)
                schema = openapi.resolve(content["application/json"]["schema"])
                Draft202012Validator.check_schema(schema)


def test_every_component_schema_is_valid_json_schema_2020_12(openapi):
    for schema in openapi.document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_request_schema_matches_what_the_api_accepts(app, openapi):
    schema = openapi.document["components"]["schemas"]["RegistrationRequest"]
    request = openapi.schema("RegistrationRequest")

    assert schema["properties"]["language"]["enum"] == list(app.config["LANGUAGES"])
    assert request.is_valid(
        {"name": "A", "email": "a@example.org", "language": "de", "consent": True}
    )
    assert not request.is_valid(
        {"name": "A", "email": "a@example.org", "language": "de", "consent": True, "x": 1}
    )
    assert not request.is_valid(
        {"name": "A", "email": "a@example.org", "language": "de", "consent": True, "guests": True}
    )


def test_document_names_the_configured_server(app, openapi):
    assert openapi.document["servers"] == [{"url": app.config["BASE_URL"] + "/api/v1"}]


def test_response_checks_catch_undocumented_and_mistyped_fields(api, make_event, openapi):
    event = make_event()
    body = api.get(f"/api/v1/events/{event.slug}").get_json()
    schema = openapi.schema("Event")

    assert schema.is_valid(body)
    assert not schema.is_valid({**body, "online_url": "https://meet.example.org/x"})
    assert not schema.is_valid({**body, "hosts": [{"slug": 1, "name": "x"}]})
    assert not schema.is_valid({**body, "starts_at": "next tuesday"})
