"""``flask outreach …``: commands for operators."""

from __future__ import annotations

import json
import logging
import mailbox
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from outreach import demo
from outreach.extensions import db
from outreach.mail.worker import Worker
from outreach.models import Campaign, CampaignStatus, Event, MessageStatus, OutboxMessage, Role
from outreach.models.types import utcnow
from outreach.services import (
    account_links,
    api_tokens,
    mail_queue,
    reminders,
    retention,
    scheduling,
    segments,
    users,
)
from outreach.services import campaigns as campaign_service
from outreach.services import delivery_feedback as feedback
from outreach.services import erasure as erasure_service
from outreach.services import events as event_service
from outreach.services import privacy as privacy_service
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


@outreach_cli.command("invite-user")
@click.option("--email", required=True, help="Address the invitation goes to (the login).")
@click.option("--org", "org_slug", required=True, help="Slug of the partner organisation.")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--language",
    type=click.Choice(["de", "en"]),
    default="de",
    show_default=True,
    help="Language of the invitation email.",
)
@with_appcontext
def invite_user_command(email, org_slug, name, language) -> None:
    """Invite a partner user: the outbox owes them a link to choose their password."""
    try:
        user = account_links.invite_partner_user(email, org_slug, name=name, language=language)
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"Invited {user.email} to {org_slug}; the invitation is in the outbox.")


@outreach_cli.command("create-token")
@click.option("--email", required=True, help="Login address of the user the token acts as.")
@click.option("--name", default="CLI", show_default=True, help="What the token is for.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Create an API token for a user and print its secret (shown this once only)."""
    user = api_tokens.user_with_email(email)
    if user is None:
        raise click.ClickException(f"There is no user {email}.")
    try:
        token, secret = api_tokens.create_token(user, name)
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"Created API token {token.id} ({token.name}) for {user.email}.", err=True)
    click.echo("Keep the secret now: it is not shown again.", err=True)
    click.echo(secret)


@outreach_cli.command("revoke-token")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token by its id; it stops working at once."""
    try:
        token = api_tokens.token_by_id(token_id)
        already = token.revoked_at is not None
        api_tokens.revoke_token(token, by=None)
    except DomainError as error:
        raise _click_error(error) from None
    state = "was already revoked" if already else "is revoked"
    click.echo(f"API token {token.id} ({token.name}) of {token.user.email} {state}.")


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


@outreach_cli.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Send queued mail until stopped (SIGTERM finishes the message in hand)."""
    worker = Worker(current_app._get_current_object())
    if once:
        click.echo(f"Mail: {worker.run_once()}.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker.run()


@outreach_cli.command("send-due")
@with_appcontext
def send_due_command() -> None:
    """Queue the reminders due now (the worker runs this step every minute and sends them)."""
    queued = reminders.enqueue_due_reminders()
    click.echo(f"Queued {queued} reminder(s).")


@outreach_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what would go; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Anonymise registrations past their retention and purge old mail (the worker does hourly)."""
    report = retention.purge(utcnow(), dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    if dry_run:
        click.echo("Dry run: nothing was changed.")
    if report.events:
        rows = [
            [
                event.slug,
                f"{event.ends_at:%Y-%m-%d %H:%M}",
                f"{event.due_at:%Y-%m-%d %H:%M}",
                str(event.registrations),
            ]
            for event in report.events
        ]
        click.echo(_table(["event", "ended (UTC)", "due (UTC)", "registrations"], rows))
    count = len(report.events)
    click.echo(
        f"{report.registrations} registration(s) of {count} event(s) {verb} anonymised; "
        f"{report.outbox_rows} mail row(s) {verb} purged; "
        f"{report.privacy_requests} data-protection request(s) {verb} reduced to a hash."
    )


@outreach_cli.group("queue", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
@with_appcontext
def queue_group(ctx: click.Context, as_json: bool) -> None:
    """Show the mail queue: messages by kind and status, what is due, how long it waits."""
    if ctx.invoked_subcommand is not None:
        return
    counts = mail_queue.queue_counts()
    if as_json:
        click.echo(json.dumps(counts, indent=2, default=_json_value))
        return
    statuses = [status.value for status in MessageStatus]
    rows = [
        [kind, *(str(numbers[status]) for status in statuses), str(numbers["total"])]
        for kind, numbers in counts["by_kind"].items()
        if numbers["total"]
    ]
    rows.append(
        ["all", *(str(counts["by_status"][status]) for status in statuses), str(counts["total"])]
    )
    click.echo(_table(["kind", *statuses, "total"], rows))
    oldest = counts["oldest_queued_age_seconds"]
    click.echo(
        f"\nDue now: {counts['due_now']}. "
        f"Oldest queued: {_duration(oldest) + ' ago' if oldest is not None else 'none'}. "
        f"Expired leases: {counts['expired_leases']}."
    )


@queue_group.command("failed")
@click.option("--limit", default=100, show_default=True, help="Show at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@with_appcontext
def queue_failed_command(limit: int, as_json: bool) -> None:
    """List the failed messages, newest first, with their attempts and last error."""
    messages = mail_queue.failed_messages(limit=limit)
    if as_json:
        click.echo(json.dumps([_message_json(m) for m in messages], indent=2, default=_json_value))
        return
    if not messages:
        click.echo("No failed messages.")
        return
    rows = [
        [
            str(message.id),
            message.kind.value,
            message.recipient,
            str(message.attempts),
            " ".join((message.last_error or "").split())[:80],
        ]
        for message in messages
    ]
    click.echo(_table(["id", "kind", "recipient", "attempts", "last error"], rows))


@queue_group.command("retry")
@click.argument("message_id", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="Retry every failed message.")
@with_appcontext
def queue_retry_command(message_id: int | None, all_failed: bool) -> None:
    """Put a failed message (or with --all-failed, every one) back in the queue, due now."""
    if (message_id is None) == (not all_failed):
        raise click.UsageError("Give either a message id or --all-failed.")
    if all_failed:
        retried = mail_queue.retry_all_failed()
        click.echo(f"{retried} failed message{'s' if retried != 1 else ''} queued again.")
        left = mail_queue.queue_counts()["by_status"][MessageStatus.FAILED.value]
        if left:
            click.echo(f"{left} stay failed: their addresses are on the suppression list.")
        return
    try:
        message = mail_queue.retry(message_id)
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(f"Message {message.id} ({message.kind.value} to {message.recipient}) queued again.")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _message_json(message: OutboxMessage) -> dict[str, object]:
    return {
        "id": message.id,
        "kind": message.kind.value,
        "recipient": message.recipient,
        "language": message.language,
        "event": message.event.slug if message.event else None,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at,
    }


@outreach_cli.group("bounces")
def bounces_group() -> None:
    """Read bounces and complaints into the suppression list."""


@bounces_group.command("fetch")
@with_appcontext
def bounces_fetch_command() -> None:
    """Process the unseen messages in the bounce mailbox (BOUNCE_IMAP_*) and mark them seen."""
    try:
        settings = feedback.MailboxSettings.from_config(current_app.config)
        outcome = feedback.fetch_from_imap(settings)
    except DomainError as error:
        raise _click_error(error) from None
    click.echo(_bounce_summary(outcome))


@bounces_group.command("import")
@click.argument("path", type=click.Path(exists=True, readable=True, path_type=Path))
@with_appcontext
def bounces_import_command(path: Path) -> None:
    """Process the bounces and complaints in an mbox file, a Maildir or one .eml file."""
    try:
        outcome = feedback.import_mailbox(path)
    except (OSError, mailbox.Error) as error:
        raise click.ClickException(f"Cannot read {path}: {error}") from None
    click.echo(_bounce_summary(outcome))


def _bounce_summary(outcome: feedback.Outcome) -> str:
    def number(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    return (
        f"Read {number(outcome.messages, 'message', 'messages')}"
        f" ({outcome.unrecognised} not a bounce or complaint about our mail): "
        f"{number(outcome.recorded, 'report', 'reports')} recorded, "
        f"{outcome.duplicates} already known; "
        f"{number(outcome.suppressed, 'suppression', 'suppressions')} added."
    )


# -- campaigns -----------------------------------------------------------------------------

WATCH_INTERVAL_SECONDS = 1.0


@outreach_cli.group("campaign")
def campaign_group() -> None:
    """List, inspect, send and cancel campaigns."""


def _campaign(campaign_id: int) -> Campaign:
    try:
        return campaign_service.get_campaign(campaign_id)
    except DomainError as error:
        raise _click_error(error) from None


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "-"


@campaign_group.command("list")
@click.option("--limit", default=50, show_default=True, help="Show at most this many.")
@with_appcontext
def campaign_list_command(limit: int) -> None:
    """List the newest campaigns with their status and recipients."""
    found = campaign_service.list_campaigns(limit=limit)
    if not found:
        click.echo("No campaigns.")
        return
    rows = [
        [
            str(campaign.id),
            campaign.kind.value,
            campaign.status.value,
            str(campaign.recipients),
            _when(campaign.scheduled_at),
            campaign.name[:50],
        ]
        for campaign in found
    ]
    click.echo(_table(["id", "kind", "status", "recipients", "scheduled", "name"], rows))


@campaign_group.command("show")
@click.argument("campaign_id", type=int)
@with_appcontext
def campaign_show_command(campaign_id: int) -> None:
    """Show a campaign: languages, audience and its size, schedule, and progress."""
    campaign = _campaign(campaign_id)
    click.echo(f"Campaign {campaign.id}: {campaign.name}")
    click.echo(f"Kind: {campaign.kind.value}. Status: {campaign.status.value}.")
    languages = ", ".join(sorted(campaign.texts or {})) or "-"
    click.echo(f"Languages: {languages} (fallback {campaign.fallback_language}).")
    click.echo(f"Audience: {json.dumps(campaign.segment, sort_keys=True)}")
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        click.echo(f"Recipients now: {_audience_size(campaign)}.")
    click.echo(
        f"Scheduled: {_when(campaign.scheduled_at)}. Started: {_when(campaign.started_at)}. "
        f"Queued: {_when(campaign.enqueued_at)}. Cancelled: {_when(campaign.cancelled_at)}."
    )
    click.echo(_progress_line(campaign_service.progress(campaign)))


def _audience_size(campaign: Campaign) -> int:
    try:
        segment = segments.Segment.from_dict(campaign.segment, verify=False)
    except DomainError as error:
        raise _click_error(error) from None
    return segments.segment_size(segment, campaign.kind)


def _progress_line(progress: campaign_service.CampaignProgress) -> str:
    return (
        f"{progress.total} messages: {progress.queued} queued, {progress.sending} sending, "
        f"{progress.sent} sent, {progress.failed} failed, {progress.skipped} skipped."
    )


@campaign_group.command("send")
@click.argument("campaign_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow the sending.")
@with_appcontext
def campaign_send_command(campaign_id: int, yes: bool, watch: bool) -> None:
    """Queue a campaign now (with a progress bar), then follow the worker sending it."""
    campaign = _campaign(campaign_id)
    if campaign.status is CampaignStatus.CANCELLED:
        raise click.ClickException(f"Campaign {campaign.id} is cancelled.")
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        size = _audience_size(campaign)
        if not yes:
            click.confirm(f"Send “{campaign.name}” to {size} people now?", abort=True)
        try:
            campaign = campaign_service.send_now(campaign, by=None)
        except DomainError as error:
            raise _click_error(error) from None
    if campaign.status is not CampaignStatus.QUEUED:
        _enqueue_with_bar(campaign)
    click.echo(f"Campaign {campaign.id} is queued; the mail worker sends it.")
    if watch:
        _watch(campaign)


def _enqueue_with_bar(campaign: Campaign) -> None:
    expected = _audience_size(campaign)
    with click.progressbar(length=max(expected, 1), label="Queueing", show_pos=True) as bar:

        def moved(written: int) -> None:
            bar.update(max(min(written, expected) - bar.pos, 0))

        try:
            added = campaign_service.enqueue(campaign, on_progress=moved)
        except DomainError as error:
            raise _click_error(error) from None
        bar.update(max(expected - bar.pos, 0))
    click.echo(f"Queued {added} message{'s' if added != 1 else ''}.")


def _watch(campaign: Campaign) -> None:
    """Print the counts whenever they change until nothing is queued or sending (or Ctrl-C)."""
    shown = None
    try:
        while True:
            db.session.rollback()  # a fresh snapshot each round
            progress = campaign_service.progress(campaign)
            line = _progress_line(progress)
            if line != shown:
                click.echo(line)
                shown = line
            if progress.queued + progress.sending == 0:
                return
            time.sleep(WATCH_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        click.echo("Stopped watching; the worker goes on sending.")


@campaign_group.command("cancel")
@click.argument("campaign_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def campaign_cancel_command(campaign_id: int, yes: bool) -> None:
    """Cancel a campaign: what is not sent yet will not be."""
    campaign = _campaign(campaign_id)
    if not yes:
        click.confirm(f"Cancel “{campaign.name}”? Messages not sent yet will not go.", abort=True)
    try:
        campaign = campaign_service.cancel(campaign, by=None)
    except DomainError as error:
        raise _click_error(error) from None
    progress = campaign_service.progress(campaign)
    click.echo(f"Campaign {campaign.id} is cancelled. {_progress_line(progress)}")


@outreach_cli.group("privacy")
def privacy_group() -> None:
    """Data-subject requests: everything held about an address, exported or erased."""


def _address(email: str) -> str:
    try:
        return privacy_service.checked_address(email)
    except InvalidInput as error:
        raise _click_error(error) from None


@privacy_group.command("export")
@click.argument("email")
@with_appcontext
def privacy_export_command(email: str) -> None:
    """Print everything held about EMAIL as JSON (audited, with a hash of the address)."""
    data = privacy_service.export(_address(email), by=None, fmt="cli")
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def privacy_erase_command(email: str, yes: bool) -> None:
    """Erase EMAIL: registrations anonymised, subscription, mail and reports gone; audited."""
    email = _address(email)
    if not yes:
        click.confirm(f"Erase everything held about {email}? This cannot be undone.", abort=True)
    try:
        summary = erasure_service.erase(email, by=None)
    except DomainError as error:
        raise _click_error(error) from None
    for name, number in summary.counts().items():
        click.echo(f"{name.replace('_', ' ')}: {number}")
    click.echo(f"Erased; audit entry {summary.entry_id}.")
