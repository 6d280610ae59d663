"""Benchmark the mail worker against an SMTP sink on loopback, on SQLite and PostgreSQL.

For each backend: a fresh database migrated with Alembic, ``--messages``
(10,000) confirmations queued as ``register`` leaves them (a confirmed
registration, its manage token, a ``registration_confirmed`` outbox row;
inserted in bulk across a few events, half German and half English), then
one ``Worker.run_once()`` in a fresh process drains the queue into an SMTP
sink (aiosmtpd, in a process of its own, that only counts). It prints
messages per second and the worker process's peak memory.

In the same run, against the same sink, two references:

a. the ceiling: a bare ``smtplib`` client pushing pre-built messages (real
   composed ones, taken from the queue) over one connection -- what the
   sink and loopback allow at all;
b. the naive way: Flask-Mail's ``mail.send()`` with one connection per
   message (``--naive`` messages, 1,000; a rate, so it scales).

and prints ours as a fraction of (a) and a multiple of (b).

    .venv/bin/python bench/mail.py [--messages 10000] [--naive 1000]
                                   [--backends sqlite,postgresql] [--profile]

PostgreSQL uses the database ``outreach_bench_mail`` on 127.0.0.1, dropped
and recreated each run (skipped with a message when unreachable). It only
talks to 127.0.0.1 and every wait is bounded. A benchmark, not a test: it
exits non-zero only when a run could not be made or lost or doubled mail.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import resource
import secrets
import smtplib
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from databases import postgresql_database  # noqa: E402  (bench/ is on the path)

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/outreach_bench_mail"
LOOPBACK = "127.0.0.1"
EVENTS = 4
SAMPLES = 20
WORKER_TIMEOUT_SECONDS = 600
CHUNK = 1000


# -- the sink -------------------------------------------------------------------


def _run_sink(port: int, received, ready, stop) -> None:
    """The sink process: accept every message, count it, keep nothing."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            received.value += 1
            return "250 2.0.0 OK"

    controller = Controller(Counting(), hostname=LOOPBACK, port=port)
    controller.start()
    ready.set()
    stop.wait(WORKER_TIMEOUT_SECONDS * 4)
    controller.stop()


class Sink:
    """An aiosmtpd server in its own process (so it does not share our GIL), counting."""

    def __init__(self, context):
        self.port = free_port()
        self.received = context.RawValue("q", 0)
        self._ready = context.Event()
        self._stop = context.Event()
        self._process = context.Process(
            target=_run_sink, args=(self.port, self.received, self._ready, self._stop)
        )

    def __enter__(self) -> Sink:
        self._process.start()
        if not self._ready.wait(30):
            self._process.kill()
            raise SystemExit("the SMTP sink did not start")
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    @property
    def count(self) -> int:
        return self.received.value

    def cpu_seconds(self) -> float:
        """CPU time the sink process has used so far (user + system)."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_for(self, count: int, timeout: float = 10) -> int:
        """The sink counts after answering; give the last messages a moment."""
        deadline = time.monotonic() + timeout
        while self.count < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.count


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# -- databases ------------------------------------------------------------------


def bench_app(database_url: str, port: int, workdir: Path):
    from config import ProductionConfig, normalise_database_url
    from outreach import create_app

    return create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url),
        SECRET_KEY=secrets.token_hex(16),
        BASE_URL="http://outreach.test",
        MAIL_SERVER=LOOPBACK,
        MAIL_PORT=port,
        MAIL_SEND_RATE=0,
        MAIL_SUPPRESS_SEND=False,
        MAILBOX_DIR=str(workdir / "mailbox"),
    )


def queue_confirmations(app, count: int) -> None:
    """Migrate, then insert ``count`` confirmed registrations with their outbox rows."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from outreach.extensions import db
    from outreach.models import (
        Event,
        EventStatus,
        EventTranslation,
        ManageToken,
        MessageKind,
        MessageStatus,
        Organisation,
        OutboxMessage,
        Registration,
        RegistrationStatus,
        event_hosts,
        utcnow,
    )
    from outreach.services.registrations import CONSENT_VERSION
    from outreach.services.tokens import TOKEN_BYTES, hash_token

    with app.app_context():
        upgrade()
        now = utcnow().replace(microsecond=0)
        host = Organisation(
            slug="bench-host", name="Bench e.V.", is_host=True, contact_email="team@bench.test"
        )
        events = []
        for number in range(EVENTS):
            starts_at = now + timedelta(days=7 + number, hours=number)
            event = Event(
                slug=f"bench-mail-{number}",
                status=EventStatus.PUBLISHED,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                timezone=("Europe/Berlin", "America/New_York")[number % 2],
                venue_name="Gemeindesaal",
                venue_address="Hauptstraße 1",
                venue_city="Berlin",
                online_url="https://meet.example.org/bench" if number % 2 else None,
                contact_email="events@bench.test",
            )
            event.languages = ["de", "en"]
            for locale, title in (("de", "Lastprobe"), ("en", "Load test")):
                event.translations[locale] = EventTranslation(
                    locale=locale,
                    title=f"{title} {number}",
                    summary=f"{title}: Zusammenfassung",
                    description=f"{title}\n\nEin längerer Text über die Veranstaltung.",
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

        for start in range(0, count, CHUNK):
            numbers = range(start, min(start + CHUNK, count))
            people = [
                {
                    "event_id": event_ids[number % EVENTS],
                    "name": f"Gast {number}",
                    "email": f"guest{number}@example.org",
                    "language": ("de", "en")[number % 2],
                    "guests": 0,
                    "status": RegistrationStatus.CONFIRMED,
                    "answers": {},
                    "consent_version": CONSENT_VERSION,
                    "consented_at": now,
                }
                for number in numbers
            ]
            ids = list(
                db.session.scalars(
                    insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
                    people,
                )
            )
            tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in ids]
            db.session.execute(
                insert(ManageToken),
                [
                    {"registration_id": rid, "token_hash": hash_token(token)}
                    for rid, token in zip(ids, tokens, strict=True)
                ],
            )
            db.session.execute(
                insert(OutboxMessage),
                [
                    {
                        "kind": MessageKind.REGISTRATION_CONFIRMED,
                        "recipient": person["email"],
                        "recipient_name": person["name"],
                        "language": person["language"],
                        "dedupe_key": f"registration_confirmed:{rid}",
                        "event_id": person["event_id"],
                        "registration_id": rid,
                        "payload": {"token": token},
                        "status": MessageStatus.QUEUED,
                        "attempts": 0,
                        "next_attempt_at": now,
                    }
                    for person, rid, token in zip(people, ids, tokens, strict=True)
                ],
            )
            db.session.commit()
        db.session.remove()


def sample_messages(app, count: int) -> list:
    """Compose the first ``count`` queued messages as the worker would (nothing is sent)."""
    from sqlalchemy import select

    from outreach.extensions import db
    from outreach.mail.compose import LOAD_OPTIONS, compose
    from outreach.models import OutboxMessage, utcnow

    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).options(*LOAD_OPTIONS).order_by(OutboxMessage.id).limit(count)
        )
        composed = [compose(row, now=utcnow()) for row in rows]
        db.session.remove()
    return composed


def outbox_summary(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from outreach.extensions import db
    from outreach.models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        summary = {status.value: n for status, n in rows}
        distinct = db.session.scalar(select(func.count(func.distinct(OutboxMessage.message_id))))
        summary["distinct Message-IDs"] = distinct
        db.session.remove()
        db.engine.dispose()
    return summary


# -- ours: the worker, in a fresh process ----------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _time_spent_in(spent: Counter, name: str, function):
    """Wrap ``function`` to add the seconds spent in it to ``spent[name]``."""

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    return timed


def _measure_steps(spent: Counter) -> None:
    """Time the worker's steps: claiming, loading, composing, sending, recording."""
    from outreach.mail import transports, worker

    worker.compose = _time_spent_in(spent, "compose", worker.compose)
    sender = transports._SmtpSender
    sender.send = _time_spent_in(spent, "SMTP send", sender.send)
    for step, name in (("claim", "claim"), ("_load", "load batch"), ("_record", "record")):
        setattr(worker.Worker, step, _time_spent_in(spent, name, getattr(worker.Worker, step)))


def _run_worker(database_url: str, port: int, workdir: str, profile: bool, start, results) -> None:
    """A worker process: build the app, wait for the others, time one draining ``run_once``."""
    from outreach.mail.worker import Worker

    spent: Counter = Counter()
    _measure_steps(spent)
    app = bench_app(database_url, port, Path(workdir))
    worker = Worker(app)
    with app.app_context():  # open the pool and warm the imports before the clock starts
        from sqlalchemy import text

        from outreach.extensions import db

        db.session.execute(text("SELECT 1"))
        db.session.remove()
    rss_before = _rss_bytes()
    profiler = cProfile.Profile() if profile else None
    start.wait(60)
    cpu_before = time.process_time()
    started = time.time()
    if profiler:
        profiler.enable()
    tally = worker.run_once()
    if profiler:
        profiler.disable()
    finished = time.time()
    cpu = time.process_time() - cpu_before
    report = None
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(30)
        stats.sort_stats("tottime").print_stats(15)
        report = out.getvalue()
    results.put(
        {
            "started": started,
            "finished": finished,
            "cpu": cpu,
            "tally": dict(tally.counts),
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "rss_before": rss_before,
            "profile": report,
            "steps": dict(spent),
        }
    )


def run_workers(
    context, count: int, database_url: str, port: int, workdir: Path, profile: bool
) -> dict:
    """Run ``count`` worker processes at once; return their combined outcome."""
    results = context.Queue()
    start = context.Barrier(count)
    processes = [
        context.Process(
            target=_run_worker,
            args=(database_url, port, str(workdir), profile and not number, start, results),
        )
        for number in range(count)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=WORKER_TIMEOUT_SECONDS) for _ in processes]
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    steps: Counter = Counter()
    tally: Counter = Counter()
    for outcome in outcomes:
        steps.update(outcome["steps"])
        tally.update(outcome["tally"])
    return {
        "seconds": max(o["finished"] for o in outcomes) - min(o["started"] for o in outcomes),
        "tally": tally,
        "steps": steps,
        "cpu": sum(o["cpu"] for o in outcomes),
        "peak_rss": max(o["peak_rss"] for o in outcomes),
        "rss_before": max(o["rss_before"] for o in outcomes),
        "profile": next((o["profile"] for o in outcomes if o["profile"]), None),
    }


# -- the references -------------------------------------------------------------------


def ceiling(port: int, samples: list, count: int) -> float:
    """(a) Pre-built messages over one connection with bare smtplib: messages per second."""
    client = smtplib.SMTP(LOOPBACK, port, timeout=30)
    started = time.perf_counter()
    for number in range(count):
        message = samples[number % len(samples)]
        client.sendmail(message.envelope_from, [f"ceiling{number}@example.org"], message.raw)
    seconds = time.perf_counter() - started
    client.quit()
    return count / seconds


def naive(app, samples: list, count: int) -> float:
    """(b) Flask-Mail ``mail.send()``, a connection per message: messages per second."""
    from flask_mail import Message

    parser = BytesParser(policy=policy.default)
    prepared = []
    for number in range(count):
        parsed = parser.parsebytes(samples[number % len(samples)].raw)
        message = Message(
            subject=str(parsed["Subject"]),
            sender=str(parsed["From"]),
            recipients=[f"naive{number}@example.org"],
            reply_to=str(parsed["Reply-To"] or "") or None,
        )
        for part in parsed.walk():
            kind = part.get_content_type()
            if part.is_multipart():
                continue
            if kind == "text/plain" and not part.get_filename():
                message.body = part.get_content()
            elif kind == "text/html":
                message.html = part.get_content()
            elif part.get_filename():
                message.attach(part.get_filename(), kind, part.get_payload(decode=True))
        prepared.append(message)
    mail = app.extensions["mail"]
    with app.app_context():
        started = time.perf_counter()
        for message in prepared:
            mail.send(message)
        seconds = time.perf_counter() - started
    return count / seconds


# -- the run --------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    messages: int
    seconds: float
    peak_rss: int
    rss_growth: int
    sent: int
    received: int
    summary: dict[str, int]
    steps: dict[str, float]
    worker_cpu: float
    sink_cpu: float
    profile: str | None

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def correct(self) -> bool:
        return (
            self.sent == self.messages
            and self.received == self.messages
            and self.summary.get("sent") == self.messages
            and self.summary.get("distinct Message-IDs") == self.messages
        )


def bench_backend(backend, database_url, args, context, workdir: Path, references) -> Result:
    with Sink(context) as sink:
        app = bench_app(database_url, sink.port, workdir)
        started = time.perf_counter()
        queue_confirmations(app, args.messages)
        print(
            f"{backend}: queued {args.messages:,} confirmations in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if not references:
            samples = sample_messages(app, SAMPLES)
            sink_cpu, client_cpu = sink.cpu_seconds(), time.process_time()
            references["ceiling"] = ceiling(sink.port, samples, args.messages)
            references["ceiling sink cpu"] = (sink.cpu_seconds() - sink_cpu) / args.messages
            references["ceiling client cpu"] = (time.process_time() - client_cpu) / args.messages
            references["naive"] = naive(app, samples, args.naive)
            references["size"] = sum(len(s.raw) for s in samples) // len(samples)
            sink.wait_for(args.messages + args.naive)
        before = sink.count
        with app.app_context():
            from outreach.extensions import db

            db.engine.dispose()  # the worker process must not share our connections
        sink_cpu = sink.cpu_seconds()
        outcome = run_workers(context, args.workers, database_url, sink.port, workdir, args.profile)
        received = sink.wait_for(before + args.messages) - before
        sink_cpu = sink.cpu_seconds() - sink_cpu
    return Result(
        backend=backend,
        messages=args.messages,
        seconds=outcome["seconds"],
        peak_rss=outcome["peak_rss"],
        rss_growth=outcome["peak_rss"] - outcome["rss_before"],
        sent=outcome["tally"].get("sent", 0),
        received=received,
        summary=outbox_summary(app),
        steps=outcome["steps"],
        worker_cpu=outcome["cpu"],
        sink_cpu=sink_cpu,
        profile=outcome["profile"],
    )


def print_report(results: list[Result], references: dict, args) -> None:
    ceiling_rate, naive_rate = references["ceiling"], references["naive"]
    print()
    print(f"messages: {args.messages:,} confirmations, about {references['size']:,} bytes each")
    print(f"(a) ceiling, bare smtplib over one connection:        {ceiling_rate:8.0f} msg/s")
    print(
        f"(b) naive, Flask-Mail mail.send() per connection:     {naive_rate:8.0f} msg/s"
        f"  (measured on {args.naive:,}, {args.messages / naive_rate:.1f} s for "
        f"{args.messages:,})"
    )
    print(f"ours: Worker.run_once() in {args.workers} fresh process(es) started together")
    print()
    header = (
        f"{'backend':<11} {'sent':>7} {'s':>7} {'msg/s':>7} {'peak RSS':>9} "
        f"{'growth':>8} {'÷ (a)':>6} {'× (b)':>6}  check"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        check = "ok" if result.correct else f"WRONG {result.summary}, received {result.received}"
        print(
            f"{result.backend:<11} {result.sent:>7,} {result.seconds:>7.1f} "
            f"{result.per_second:>7.0f} {result.peak_rss / 2**20:>6.0f} MB "
            f"{result.rss_growth / 2**20:>5.0f} MB "
            f"{result.per_second / ceiling_rate:>6.2f} {result.per_second / naive_rate:>6.1f}  "
            f"{check}"
        )
    print()
    print(
        "where a message's time goes, in ms: time in each step of the worker(s) ÷ messages"
        + (f" (summed over {args.workers} workers)" if args.workers > 1 else "")
    )
    names = ["compose", "SMTP send", "record", "claim", "load batch"]
    print(f"{'backend':<11} " + " ".join(f"{name:>10}" for name in [*names, "other"]))
    for result in results:
        per_message = {name: 1000 * result.steps.get(name, 0) / result.sent for name in names}
        wall = args.workers * result.seconds
        other = 1000 * wall / result.sent - sum(per_message.values())
        print(
            f"{result.backend:<11} "
            + " ".join(f"{per_message[name]:>10.2f}" for name in names)
            + f" {other:>10.2f}"
        )
    print(f"{'(a)':<11} {'':>10} {1000 / ceiling_rate:>10.2f}   (all the ceiling costs a message)")
    print()
    print("CPU per message, in ms (2 cores shared by the sink, the worker and the database):")
    for result in results:
        print(
            f"{result.backend:<11} worker {1000 * result.worker_cpu / result.sent:5.2f}"
            f"   sink {1000 * result.sink_cpu / result.sent:5.2f}"
        )
    print(
        f"{'(a)':<11} client {1000 * references['ceiling client cpu']:5.2f}"
        f"   sink {1000 * references['ceiling sink cpu']:5.2f}"
    )
    for result in results:
        if result.profile:
            print(f"\n-- profile of the worker on {result.backend} --\n{result.profile}")


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=1_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--workers", type=int, default=1, help="worker processes at once")
    parser.add_argument("--profile", action="store_true", help="cProfile the (first) worker")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    context = multiprocessing.get_context("spawn")
    results: list[Result] = []
    references: dict = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="outreach-bench-mail-") as tmp:
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
            result = bench_backend(backend, url, args, context, workdir, references)
            results.append(result)
            failed |= not result.correct
    if not results:
        print("no backend could be run")
        return 1
    print_report(results, references, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
