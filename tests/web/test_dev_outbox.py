"""The development outbox page stands in for a mailbox until the mail worker exists."""

from __future__ import annotations

from config import TestingConfig
from outreach import create_app


def test_outbox_page_is_absent_unless_dev_tools_are_on(client):
    assert client.get("/dev/outbox").status_code == 404


def test_outbox_page_lists_messages_with_their_manage_links(
    database_url, app, make_event, make_registration
):
    outcome = make_registration(make_event(title="Sprachcafé"), name="Ada Lovelace")
    dev_app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, DEV_TOOLS=True)

    page = dev_app.test_client().get("/dev/outbox").get_data(as_text=True)

    assert "registration_confirmed" in page
    assert "Ada Lovelace" in page
    assert "Sprachcafé" in page
    assert f'href="/r/{outcome.token}"' in page
