"""Benchmark registrations under concurrency against gunicorn, on SQLite and PostgreSQL.

For each backend: a fresh database migrated with ``flask db upgrade``, one
published event with fewer seats than clients, gunicorn on 127.0.0.1, then

1. GET /healthz -- the upper bound: the same server doing (almost) nothing;
2. POST /api/v1/events/<slug>/registrations -- distinct people racing for the seats;

both at the same concurrency. Afterwards the database is checked: confirmed
seats must not exceed the capacity (overbookings = 0), waitlist positions are
unique, and every 201 answer is a stored registration.

    .venv/bin/python bench/rsvp.py [--clients 200] [--concurrency 32] [--capacity 50]
                                   [--backends sqlite,postgresql]

It only talks to 127.0.0.1, stops by itself, and every wait is bounded.
This is a benchmark, not a test: it prints figures, and exits non-zero only
when the run could not be made or the database shows an overbooking.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from databases import postgresql_database  # noqa: E402  (bench/ is on the path)

EVENT_SLUG = "bench-rsvp"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/outreach_bench"
STARTUP_SECONDS = 30
CREATED = {"201 confirmed", "201 waitlisted"}
REQUEST_TIMEOUT_SECONDS = 30


@dataclass
class Phase:
    """What one burst of requests measured."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Latency in milliseconds below which ``share`` of the requests finished."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return (
            statistics.quantiles(self.latencies, n=100, method="inclusive")[round(share * 100) - 1]
            * 1000
        )


@dataclass
class BackendResult:
    backend: str
    health: Phase
    register: Phase
    capacity: int
    confirmed_seats: int
    waitlisted: int
    stored: int
    duplicate_positions: int

    @property
    def overbooked(self) -> int:
        return max(self.confirmed_seats - self.capacity, 0)


# -- databases ------------------------------------------------------------------


def sqlite_database(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.sqlite'}"


def server_environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        OUTREACH_ENV="production",
        RATELIMIT_ENABLED="false",
        SECRET_KEY=secrets.token_urlsafe(32),
        BASE_URL="http://127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("MAIL_SERVER", None)
    return env


def migrate(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )


def create_event(database_url: str, capacity: int) -> None:
    """Insert one published event, a week ahead, with a waitlist."""
    from config import normalise_database_url
    from outreach import create_app
    from outreach.extensions import db
    from outreach.models import (
        Event,
        EventStatus,
        EventTranslation,
        Organisation,
        event_hosts,
        utcnow,
    )

    app = create_app(SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url))
    with app.app_context():
        host = Organisation(slug="bench-host", name="Bench e.V.", is_host=True)
        starts_at = utcnow().replace(microsecond=0) + timedelta(days=7)
        event = Event(
            slug=EVENT_SLUG,
            status=EventStatus.PUBLISHED,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            venue_name="Saal",
            venue_city="Berlin",
            capacity=capacity,
            waitlist_enabled=True,
            max_guests=0,
        )
        event.languages = ["de"]
        for locale, title in (("de", "Lastprobe"), ("en", "Load test")):
            event.translations[locale] = EventTranslation(
                locale=locale, title=title, summary=title, description=title
            )
        db.session.add_all([host, event])
        db.session.flush()
        db.session.execute(
            event_hosts.insert().values(event_id=event.id, organisation_id=host.id, position=0)
        )
        db.session.commit()
        db.engine.dispose()


def check_database(database_url: str) -> tuple[int, int, int, int]:
    """Return confirmed seats, waitlisted people, stored registrations, duplicate positions."""
    from sqlalchemy import func, select

    from config import normalise_database_url
    from outreach import create_app
    from outreach.extensions import db
    from outreach.models import Event, Registration, RegistrationStatus

    app = create_app(SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url))
    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.slug == EVENT_SLUG))
        of_event = select(Registration).where(Registration.event_id == event_id).subquery()
        seats = db.session.scalar(
            select(func.coalesce(func.sum(1 + of_event.c.guests), 0)).where(
                of_event.c.status == RegistrationStatus.CONFIRMED.value
            )
        )
        waitlisted = db.session.scalar(
            select(func.count()).where(of_event.c.status == RegistrationStatus.WAITLISTED.value)
        )
        stored = db.session.scalar(select(func.count()).select_from(of_event))
        positions = db.session.scalars(
            select(of_event.c.waitlist_seq).where(of_event.c.waitlist_seq.is_not(None))
        ).all()
        db.engine.dispose()
    return seats, waitlisted, stored, len(positions) - len(set(positions))


# -- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn serving wsgi:app on 127.0.0.1, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int, threads: int, log: Path):
        self.port = free_port()
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> Gunicorn:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log}")
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {STARTUP_SECONDS}s; see {self.log}")

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log_file.close()


# -- the load -----------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return _send(connection, method, path, body)
    finally:
        connection.close()


def _send(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def run_phase(name: str, port: int, count: int, concurrency: int, make_request) -> Phase:
    """Send ``count`` requests over ``concurrency`` keep-alive connections.

    ``make_request(i)`` returns (method, path, body); a worker thread per
    connection takes the next number until all are sent.
    """
    phase = Phase(name)
    lock = threading.Lock()
    numbers = iter(range(count))

    def outcome(status: int, payload: bytes) -> str:
        if status == 201:
            try:
                return f"201 {json.loads(payload).get('status', '?')}"
            except ValueError:
                return "201 (no JSON)"
        return str(status)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                method, path, body = make_request(number)
                started = time.perf_counter()
                try:
                    status, payload = _send(connection, method, path, body)
                    result = outcome(status, payload)
                except (OSError, http.client.HTTPException) as error:
                    connection.close()  # reconnects on the next request
                    result = f"error {type(error).__name__}"
                elapsed = time.perf_counter() - started
                with lock:
                    phase.latencies.append(elapsed)
                    phase.outcomes[result] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    # Each request is bounded by its timeout, so the whole phase is too.
    limit = REQUEST_TIMEOUT_SECONDS * (count // concurrency + 2)
    for thread in threads:
        thread.join(timeout=max(limit - (time.perf_counter() - started), 0.1))
    phase.seconds = time.perf_counter() - started
    if any(thread.is_alive() for thread in threads):
        phase.outcomes["unfinished"] += count - phase.requests
    return phase


def registration_body(number: int, run_id: str) -> bytes:
    return json.dumps(
        {
            "name": f"Bench Person {number}",
            "email": f"bench{number}.{run_id}@example.org",
            "language": "de",
            "guests": 0,
            "answers": {},
            "consent": True,
        }
    ).encode()


def bench_backend(backend: str, database_url: str, args, workdir: Path) -> BackendResult:
    env = server_environment(database_url)
    log = workdir / f"{backend}.log"
    migrate(env, log)
    create_event(database_url, args.capacity)
    run_id = secrets.token_hex(4)
    path = f"/api/v1/events/{EVENT_SLUG}/registrations"
    with Gunicorn(env, args.workers, args.threads, log) as server:
        # Warm up every worker (imports, first connections) before measuring.
        run_phase(
            "warm-up",
            server.port,
            args.concurrency * 2,
            args.concurrency,
            lambda _: ("GET", "/healthz", None),
        )
        health = run_phase(
            "GET /healthz",
            server.port,
            args.clients,
            args.concurrency,
            lambda _: ("GET", "/healthz", None),
        )
        register = run_phase(
            "POST registrations",
            server.port,
            args.clients,
            args.concurrency,
            lambda n: ("POST", path, registration_body(n, run_id)),
        )
    seats, waitlisted, stored, duplicates = check_database(database_url)
    return BackendResult(
        backend, health, register, args.capacity, seats, waitlisted, stored, duplicates
    )


# -- the report ----------------------------------------------------------------------


def print_report(results: list[BackendResult], args) -> None:
    print()
    print(
        f"{args.clients} requests per phase over {args.concurrency} connections; "
        f"gunicorn {args.workers} workers x {args.threads} threads; capacity {args.capacity}"
    )
    header = f"{'backend':<11} {'endpoint':<19} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses"
    print(header)
    print("-" * len(header))
    for result in results:
        for phase in (result.health, result.register):
            statuses = ", ".join(f"{key}: {n}" for key, n in sorted(phase.outcomes.items()))
            print(
                f"{result.backend:<11} {phase.name:<19} {phase.per_second:>8.1f} "
                f"{phase.percentile(0.5):>8.1f} {phase.percentile(0.95):>8.1f}  {statuses}"
            )
    print()
    for result in results:
        health, register = result.health, result.register
        print(
            f"{result.backend}: registrations/s / health req/s = "
            f"{register.per_second / health.per_second:.2f}; latency x"
            f"{register.percentile(0.5) / health.percentile(0.5):.1f} at p50, "
            f"x{register.percentile(0.95) / health.percentile(0.95):.1f} at p95"
        )
        print(
            f"{result.backend}: confirmed seats {result.confirmed_seats} / capacity "
            f"{result.capacity}, overbooked {result.overbooked}, waitlisted "
            f"{result.waitlisted}, stored {result.stored}, duplicate waitlist positions "
            f"{result.duplicate_positions}"
        )


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clients",
        type=int,
        default=200,
        help="requests per phase, one distinct person each (default 200)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent connections (default 32)"
    )
    parser.add_argument("--capacity", type=int, default=50, help="seats of the event (default 50)")
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (default 4)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="bench database on 127.0.0.1, dropped and recreated (default %(default)s)",
    )
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    if args.capacity >= args.clients:
        parser.error("--capacity must be smaller than --clients, or nobody races for a seat")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends:
            if backend == "sqlite":
                url = sqlite_database(workdir)
            else:
                url = postgresql_database(args.postgres_url)
                if url is None:
                    continue
            print(f"{backend}: running ...", flush=True)
            try:
                results.append(bench_backend(backend, url, args, workdir))
            except (RuntimeError, subprocess.SubprocessError) as error:
                log = workdir / f"{backend}.log"
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                print(f"{backend}: failed: {error}\n{tail}")
                return 2
    if not results:
        print("nothing was measured")
        return 2
    print_report(results, args)
    if any(result.overbooked for result in results):
        return 1
    if any(not result.register.outcomes.keys() & CREATED for result in results):
        print("the registration endpoint created nothing: see the statuses above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
