"""Rate limits per client address (switched off in the other tests)."""

from __future__ import annotations

import pytest

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from tests.api.documented import DocumentedClient


@pytest.fixture
def limited_api(app, database_url, openapi):
    """Build a client for an app with rate limits on, on the test database."""
    built = []

    def build(**limits) -> DocumentedClient:
        limited = create_app(
            TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True, **limits
        )
        built.append(limited)
        return DocumentedClient(limited, limited.test_client(), openapi)

    yield build
    for limited in built:
        with limited.app_context():
            db.engine.dispose()


def test_writes_over_the_limit_get_a_json_429_with_retry_after(
    limited_api, make_event, registration_body, counts
):
    api = limited_api(RATELIMIT_API_WRITE="2 per minute")
    event = make_event()
    url = f"/api/v1/events/{event.slug}/registrations"

    statuses = [api.post(url, json=registration_body()).status_code for _ in range(2)]
    refused = api.post(url, json=registration_body())

    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    assert refused.get_json()["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert counts() == (2, 2)
    # Cancelling is a write too; reading is not limited by the write limit.
    assert api.delete("/api/v1/registrations/" + "x" * 43).status_code == 429
    assert api.get(f"/api/v1/events/{event.slug}").status_code == 200


def test_the_api_limit_counts_requests_to_every_endpoint_together(
    limited_api, make_event, registration_body
):
    api = limited_api(RATELIMIT_API="4 per minute")
    event = make_event()

    statuses = [
        api.get("/api/v1/events").status_code,
        api.get(f"/api/v1/events/{event.slug}").status_code,
        api.get("/api/v1/openapi.json").status_code,
        api.post(
            f"/api/v1/events/{event.slug}/registrations", json=registration_body()
        ).status_code,
    ]
    refused = api.get("/api/v1/events")

    assert statuses == [200, 200, 200, 201]
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
