"""Benchmark campaign enqueuing (100,000 recipients) and sending, on SQLite and PostgreSQL.

For each backend: a fresh database migrated with Alembic and ``--people``
(100,000) recipients bulk-inserted as registrants of four events (a part
of them registered for two of the events, 1 % more on the suppression
list; German, English and Arabic, which the campaign has no version of).
Then, each in a fresh process:

1. ``campaigns.enqueue`` of a campaign to all of them, timed, with the
   process's peak RSS and its growth during the run;
2. the same for a second campaign with ``tracemalloc`` on: the peak of
   Python allocations while enqueuing (what "never loading every recipient
   into Python" means in bytes);
3. the floor: the same rows written by one INSERT … SELECT over the whole
   segment in one transaction (no chunks, no progress, no resuming).

The rows are checked (one per person, none to a suppressed address, each
in their language or the fallback). Then ``--send`` (5,000) of them go to
an SMTP sink (aiosmtpd in a process of its own, counting) through
``Worker.run_once()`` in a fresh process, against the sink's own ceiling
measured in the same run: a bare ``smtplib`` loop over one connection
pushing real composed campaign messages.

    .venv/bin/python bench/campaign.py [--people 100000] [--send 5000]
                                       [--chunk-size 5000] [--backends sqlite,postgresql]

PostgreSQL uses the database ``outreach_bench`` on 127.0.0.1, dropped and
recreated each run (skipped with a message when unreachable). It only talks
to 127.0.0.1 and every wait is bounded. It exits non-zero when a backend
could not be run or the rows were wrong.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from databases import postgresql_database  # noqa: E402  (bench/ is on the path)
from mail import Sink, bench_app, ceiling, run_workers  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/outreach_bench"
EVENTS = 4
TWICE = 0.05  # the share of people registered for a second event too
SUPPRESSED = 0.01  # on top of --people, on the suppression list
LANGUAGES = ("de", "en", "ar")
INSERT_CHUNK = 10_000
SAMPLES = 20
TIMEOUT_SECONDS = 600
TEXTS = {
    "de": {
        "subject": "Einladung für {{ first_name }}: {{ event.title }}",
        "body": "Hallo {{ name }},\n\nwir laden Sie herzlich ein: **{{ event.title }}** am "
        "{{ event.date }}.\n\n- Programm\n- Essen\n\n[Zur Veranstaltung]({{ event.url }})",
    },
    "en": {
        "subject": "An invitation for {{ first_name }}: {{ event.title }}",
        "body": "Hello {{ name }},\n\nyou are warmly invited: **{{ event.title }}** on "
        "{{ event.date }}.\n\n- Programme\n- Food\n\n[To the event]({{ event.url }})",
    },
}


# -- the data ------------------------------------------------------------------------


def seed(app, people: int) -> list[int]:
    """Migrate, insert the events and the registrants; return the event ids."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from outreach.extensions import db
    from outreach.models import (
        Event,
        EventStatus,
        EventTranslation,
        Organisation,
        Registration,
        RegistrationStatus,
        Suppression,
        SuppressionReason,
        SuppressionScope,
        event_hosts,
        utcnow,
    )
    from outreach.services.registrations import CONSENT_VERSION

    with app.app_context():
        upgrade()
        now = utcnow().replace(microsecond=0)
        host = Organisation(slug="bench-host", name="Bench e.V.", is_host=True)
        events = []
        for number in range(EVENTS):
            starts_at = now + timedelta(days=10 + number)
            event = Event(
                slug=f"bench-campaign-{number}",
                status=EventStatus.PUBLISHED,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=3),
                venue_name="Gemeindesaal",
                venue_city="Berlin",
            )
            for locale, title in (("de", "Sommerfest"), ("en", "Summer party")):
                event.translations[locale] = EventTranslation(
                    locale=locale, title=f"{title} {number}", summary="", description=""
                )
            events.append(event)
        db.session.add(host)
        db.session.add_all(events)
        db.session.flush()
        db.session.execute(
            insert(event_hosts),
            [{"event_id": e.id, "organisation_id": host.id, "position": 0} for e in events],
        )
        event_ids = [event.id for event in events]
        db.session.commit()

        extra = int(people * SUPPRESSED)
        twice = int(people * TWICE)
        numbers = list(range(people + extra)) + list(range(twice))
        for start in range(0, len(numbers), INSERT_CHUNK):
            rows = []
            for position in range(start, min(start + INSERT_CHUNK, len(numbers))):
                number = numbers[position]
                second = position >= people + extra
                rows.append(
                    {
                        "event_id": event_ids[(number + (1 if second else 0)) % EVENTS],
                        "name": f"Gast Nummer {number}",
                        "email": f"guest{number}@example.org",
                        "language": LANGUAGES[number % len(LANGUAGES)],
                        "guests": 0,
                        "status": RegistrationStatus.CONFIRMED,
                        "answers": {},
                        "consent_version": CONSENT_VERSION,
                        "consented_at": now,
                    }
                )
            db.session.execute(insert(Registration), rows)
            db.session.commit()
        db.session.execute(
            insert(Suppression),
            [
                {
                    "email": f"guest{number}@example.org",
                    "scope": SuppressionScope.OUTREACH,
                    "reason": SuppressionReason.UNSUBSCRIBED,
                }
                for number in range(people, people + extra)
            ],
        )
        db.session.commit()
        # Planner statistics for the new rows, as autovacuum gathers them within a minute
        # of a bulk load (without them PostgreSQL guesses one row and plans nested loops).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return event_ids


def create_campaign(app, event_ids: list[int], name: str) -> int:
    """A campaign to every confirmed registrant of the events, marked due now."""
    from outreach.extensions import db
    from outreach.models import CampaignKind
    from outreach.services import campaigns

    with app.app_context():
        campaign = campaigns.create_campaign(
            campaigns.CampaignInput(
                kind=CampaignKind.OUTREACH,
                name=name,
                texts=TEXTS,
                fallback_language="de",
                segment={"type": "registrants", "events": event_ids},
            ),
            by=None,
        )
        campaigns.send_now(campaign, by=None)
        campaign_id = campaign.id
        db.session.remove()
        db.engine.dispose()
    return campaign_id


# -- enqueuing, in a fresh process -----------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class RssSampler:
    """The process's peak resident memory while a block runs, sampled every few milliseconds.

    ru_maxrss would also count what importing the app took before the clock started.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop.wait(0.005)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _run_enqueue(database_url: str, campaign_id: int, mode: str, chunk_size: int, results):
    """A process that enqueues one campaign: "timed", "traced" (tracemalloc) or "floor"."""
    from sqlalchemy import func, select, text

    from outreach.extensions import db
    from outreach.models import Campaign, CampaignStatus
    from outreach.services import campaigns
    from outreach.services.segments import Segment, recipients

    app = bench_app(database_url, 25, Path(tempfile.gettempdir()))
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # open the pool, warm the imports
        db.session.remove()
        campaign = db.session.get(Campaign, campaign_id)
        rss_before = _rss_bytes()
        chunks = []
        if mode == "traced":
            tracemalloc.start()
        sampler = RssSampler().__enter__()
        started = time.perf_counter()
        if mode == "floor":
            segment = Segment.from_dict(campaign.segment, verify=False)
            last = db.session.scalar(
                select(func.max(recipients(segment, campaign.kind).subquery().c.email))
            )
            written = campaigns._insert_chunk(campaign, segment, after=None, upto=last)
            campaign.status = CampaignStatus.QUEUED
            db.session.commit()
        else:
            written = campaigns.enqueue(
                campaign, chunk_size=chunk_size, on_progress=lambda n: chunks.append(n)
            )
        seconds = time.perf_counter() - started
        sampler.__exit__(None, None, None)
        traced_peak = tracemalloc.get_traced_memory()[1] if mode == "traced" else None
        if mode == "traced":
            tracemalloc.stop()
        db.session.remove()
    results.put(
        {
            "mode": mode,
            "written": written,
            "seconds": seconds,
            "chunks": len(chunks),
            "peak_rss": sampler.peak,
            "rss_before": rss_before,
            "traced_peak": traced_peak,
        }
    )


def enqueue_in_process(context, database_url: str, campaign_id: int, mode: str, chunk: int):
    results = context.Queue()
    process = context.Process(
        target=_run_enqueue, args=(database_url, campaign_id, mode, chunk, results)
    )
    process.start()
    try:
        return results.get(timeout=TIMEOUT_SECONDS)
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()


def check_rows(app, campaign_id: int, people: int) -> str:
    """'ok', or what is wrong with the campaign's rows."""
    from sqlalchemy import func, select

    from outreach.extensions import db
    from outreach.models import OutboxMessage, Suppression

    with app.app_context():
        mine = OutboxMessage.campaign_id == campaign_id
        total, distinct = db.session.execute(
            select(func.count(), func.count(func.distinct(OutboxMessage.recipient))).where(mine)
        ).one()
        suppressed = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .join(Suppression, Suppression.email == OutboxMessage.recipient)
            .where(mine)
        )
        languages = dict(
            db.session.execute(
                select(OutboxMessage.language, func.count())
                .where(mine)
                .group_by(OutboxMessage.language)
            ).all()
        )
        db.session.remove()
        db.engine.dispose()
    expected_en = sum(1 for number in range(people) if number % len(LANGUAGES) == 1)
    problems = []
    if (total, distinct) != (people, people):
        problems.append(f"{total} rows for {distinct} addresses")
    if suppressed:
        problems.append(f"{suppressed} to suppressed addresses")
    if languages != {"de": people - expected_en, "en": expected_en}:
        problems.append(f"languages {languages}")
    return "; ".join(problems) or "ok"


# -- sending ------------------------------------------------------------------------------


def keep_only_due(app, campaign_id: int, count: int) -> None:
    """Leave ``count`` of the campaign's rows due and every other queued row for later."""
    from sqlalchemy import select, update

    from outreach.extensions import db
    from outreach.models import MessageStatus, OutboxMessage, utcnow

    with app.app_context():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.QUEUED)
            .values(next_attempt_at=utcnow() + timedelta(days=365))
        )
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.campaign_id == campaign_id)
            .order_by(OutboxMessage.id)
            .limit(count)
            .scalar_subquery()
        )
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def sample_messages(app, campaign_id: int, count: int) -> list:
    """Compose ``count`` of the campaign's messages as the worker would (nothing is sent)."""
    from sqlalchemy import select

    from outreach.extensions import db
    from outreach.mail.compose import LOAD_OPTIONS, compose
    from outreach.models import OutboxMessage, utcnow

    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.campaign_id == campaign_id)
            .options(*LOAD_OPTIONS)
            .order_by(OutboxMessage.id.desc())
            .limit(count)
        )
        composed = [compose(row, now=utcnow()) for row in rows]
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return composed


# -- the run ------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    seeded_seconds: float
    enqueues: dict[str, dict] = field(default_factory=dict)
    check: str = ""
    sent: int = 0
    send_seconds: float = 0.0
    received: int = 0
    ceiling: float = 0.0
    size: int = 0

    @property
    def per_second(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0


def bench_backend(backend: str, url: str, args, context, workdir: Path) -> Result:
    with Sink(context) as sink:
        app = bench_app(url, sink.port, workdir)
        started = time.perf_counter()
        event_ids = seed(app, args.people)
        result = Result(backend, time.perf_counter() - started)
        print(f"{backend}: seeded in {result.seeded_seconds:.1f} s", flush=True)
        campaign_ids = {}
        for mode in ("timed", "traced", "floor"):
            campaign_ids[mode] = create_campaign(app, event_ids, f"bench {mode}")
            outcome = enqueue_in_process(context, url, campaign_ids[mode], mode, args.chunk_size)
            result.enqueues[mode] = outcome
            print(
                f"{backend}: {mode} enqueue of {outcome['written']:,} rows "
                f"in {outcome['seconds']:.1f} s",
                flush=True,
            )
        result.check = check_rows(app, campaign_ids["timed"], args.people)

        keep_only_due(app, campaign_ids["timed"], args.send)
        samples = sample_messages(app, campaign_ids["timed"], SAMPLES)
        result.size = sum(len(sample.raw) for sample in samples) // len(samples)
        result.ceiling = ceiling(sink.port, samples, args.send)
        sink.wait_for(args.send)
        before = sink.count
        outcome = run_workers(context, 1, url, sink.port, workdir, False)
        result.sent = outcome["tally"].get("sent", 0)
        result.send_seconds = outcome["seconds"]
        result.received = sink.wait_for(before + args.send) - before
        print(f"{backend}: sent {result.sent:,} in {result.send_seconds:.1f} s", flush=True)
    return result


def print_report(results: list[Result], args) -> None:
    print()
    print(
        f"enqueue: {args.people:,} recipients (registrants of {EVENTS} events, {TWICE:.0%} "
        f"of them twice, {SUPPRESSED:.0%} more suppressed), chunks of {args.chunk_size:,}"
    )
    header = (
        f"{'backend':<11} {'how':<24} {'rows':>8} {'s':>6} {'rows/s':>8} "
        f"{'peak RSS':>9} {'growth':>7} {'py peak':>8} {'÷ floor':>8}"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "timed": "enqueue (chunked)",
        "traced": "enqueue + tracemalloc",
        "floor": "floor: one INSERT…SELECT",
    }
    for result in results:
        floor = result.enqueues["floor"]["seconds"]
        for mode, label in labels.items():
            run = result.enqueues[mode]
            traced = f"{run['traced_peak'] / 2**20:5.1f} MB" if run["traced_peak"] else "       -"
            print(
                f"{result.backend:<11} {label:<24} {run['written']:>8,} {run['seconds']:>6.1f} "
                f"{run['written'] / run['seconds']:>8,.0f} {run['peak_rss'] / 2**20:>6.0f} MB "
                f"{(run['peak_rss'] - run['rss_before']) / 2**20:>4.0f} MB {traced:>8} "
                f"{run['seconds'] / floor:>8.2f}"
            )
        print(f"{result.backend:<11} rows check: {result.check}")
    print()
    print(f"send: {args.send:,} campaign messages of about {results[0].size:,} bytes")
    header = (
        f"{'backend':<11} {'sent':>7} {'s':>7} {'msg/s':>7} {'ceiling':>8} {'÷ ceiling':>10}"
        f"  received"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.backend:<11} {result.sent:>7,} {result.send_seconds:>7.1f} "
            f"{result.per_second:>7.0f} {result.ceiling:>8.0f} "
            f"{result.per_second / result.ceiling:>10.2f}  {result.received:,}"
        )


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=5_000)
    parser.add_argument("--chunk-size", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    context = multiprocessing.get_context("spawn")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="outreach-bench-campaign-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite'}"
            elif backend == "postgresql":
                url = postgresql_database(args.postgres_url)
                if url is None:
                    continue
            else:
                raise SystemExit(f"unknown backend {backend!r}")
            results.append(bench_backend(backend, url, args, context, workdir))
    if not results:
        print("no backend could be run")
        return 1
    print_report(results, args)
    wrong = [r for r in results if r.check != "ok" or r.sent != args.send or r.received != r.sent]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
