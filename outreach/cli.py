"""``flask outreach …``: commands for operators."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from outreach import demo
from outreach.models import Role
from outreach.services import users
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
    except InvalidInput as error:
        problems = "; ".join(f"{field}: {message}" for field, message in error.errors.items())
        raise click.ClickException(problems) from None
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role.value} user {user.email}.")


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
