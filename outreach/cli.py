"""``flask outreach …``: commands for operators."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext

from outreach import demo
from outreach.models import Event, Role
from outreach.services import events as event_service
from outreach.services import scheduling, users
from outreach.services.errors import DomainError, InvalidInput


@click.group("outreach")
def outreach_cli() -> None:
    """Outreach commands."""


@outreach_cli.command("create-user")
@click.option("--email", required=True, help="Login address of the new user.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_slug", help="Organisation slug (required for partner users).")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email, role, org_slug, name, password_stdin) -> None:
    """Create a staff or partner user; the password is prompted for or read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(
            email=email, role=Role(role), password=password, org_slug=org_slug, name=name
        )
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"Created {user.role.value} user {user.email}.")


def _click_error(error: DomainError) -> click.ClickException:
    if isinstance(error, InvalidInput):
        return click.ClickException(
            "; ".join(f"{field}: {message}" for field, message in error.errors.items())
        )
    return click.ClickException(error.message)


def _event(slug: str) -> Event:
    event = event_service.any_event(slug)
    if event is None:
        raise click.ClickException(f"There is no event {slug}.")
    return event


def _local_time(value: str | None, zone: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2027-03-14T18:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(zone))


@outreach_cli.command("reschedule")
@click.argument("slug")
@click.option("--start", help="New start in the event's zone, e.g. 2027-03-14T18:00.")
@click.option("--end", help="New end in the event's zone.")
@click.option("--venue-name")
@click.option("--venue-address")
@click.option("--venue-city")
@click.option("--online-url")
@with_appcontext
def reschedule_command(slug, start, end, venue_name, venue_address, venue_city, online_url):
    """Move an event; registrants are owed an updated calendar invite."""
    event = _event(slug)
    changes = {
        "starts_at": _local_time(start, event.timezone),
        "ends_at": _local_time(end, event.timezone),
        "venue_name": venue_name,
        "venue_address": venue_address,
        "venue_city": venue_city,
        "online_url": online_url,
    }
    try:
        event = scheduling.reschedule(
            event, **{name: value for name, value in changes.items() if value is not None}
        )
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"{event.slug} is at sequence {event.sequence}.")


@outreach_cli.command("cancel-event")
@click.argument("slug")
@click.option("--reason", default="", help="Told to registrants.")
@click.confirmation_option(prompt="Cancel this event and tell everyone registered?")
@with_appcontext
def cancel_event_command(slug, reason):
    """Cancel an event; registrants are owed a cancellation that removes it from calendars."""
    try:
        event = scheduling.cancel_event(_event(slug), reason)
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"{event.slug} is cancelled.")


@outreach_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no events yet.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load demo organisations and events; running it again changes nothing."""
    if if_empty and demo.has_events():
        click.echo("Events exist already; demo data not loaded.")
        return
    created = demo.seed()
    click.echo(f"Demo data ready ({created} new records).")
