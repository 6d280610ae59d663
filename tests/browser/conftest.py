"""Fixtures for tests that drive Debian's headless Chromium through Playwright.

``live_server`` serves the test ``app`` (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set) on 127.0.0.1 from a background thread, with CSRF
protection switched on as in production, so the forms are exercised for real.
Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import migrated_sqlite

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What a test waits for at most before Playwright gives up (milliseconds).
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Browser tests check pages, not databases: they run on SQLite only.

    Every service and view test runs on PostgreSQL as well; running the slow
    browser journeys twice would only double their time.
    """
    return migrated_sqlite(tmp_path_factory)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yield its base URL."""
    app.config.update(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(BASE_URL=base_url)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Launch one headless Chromium for the whole run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install the Debian package 'chromium'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_locale() -> str:
    """Return the browser language; override it with parametrize or in a module."""
    return "en-US"


@pytest.fixture
def page(browser, live_server, browser_locale):
    """Open a page in a fresh browser context (no cookies) aimed at the live server."""
    context = browser.new_context(base_url=live_server, locale=browser_locale)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
    return "\n".join(lines)


@pytest.fixture
def check_accessibility() -> Callable:
    """Return a function that runs axe-core on a page and fails on serious problems.

    Violations of impact "serious" or "critical" fail the test; the rest are
    printed, so they show up with ``-rP`` or when the test fails.
    """
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run 'npm ci --ignore-scripts' (make test does)")

    def check(page, what: str = "") -> list[dict]:
        what = what or page.url
        # Evaluated through the DevTools protocol, which the pages' Content-Security-Policy
        # does not govern (a <script> tag would be refused as inline script).
        page.evaluate(f"() => {{ {AXE_SCRIPT.read_text(encoding='utf-8')}\n}}")
        result = page.evaluate("async () => await axe.run(document)")
        violations = result["violations"]
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        minor = [v for v in violations if v not in serious]
        if minor:
            print(f"axe-core, minor findings on {what}:\n{_describe(minor)}")
        assert not serious, f"axe-core found serious problems on {what}:\n{_describe(serious)}"
        return violations

    return check


VNU_JAR = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture
def check_html(tmp_path) -> Callable[[dict[str, str]], None]:
    """Return a function that checks pages ``{name: html}`` with the Nu Html Checker.

    All pages go through one run of the checker (starting Java is the slow
    part); any error fails the test with the page's name, line and message.
    """
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed: the Nu Html Checker needs a Java 17+ runtime")
    if not VNU_JAR.exists():
        pytest.skip(f"{VNU_JAR} is missing: run 'npm ci --ignore-scripts'")

    def check(pages: dict[str, str]) -> None:
        folder = tmp_path / "html-check"
        folder.mkdir(exist_ok=True)
        for name, html in pages.items():
            (folder / f"{name}.html").write_text(html, encoding="utf-8")
        result = subprocess.run(
            [
                java,
                "-jar",
                str(VNU_JAR),
                "--errors-only",
                "--format",
                "json",
                "--stdout",
                *sorted(str(path) for path in folder.glob("*.html")),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        try:
            report = json.loads(result.stdout)
        except ValueError:
            pytest.fail(f"the checker printed no JSON:\n{result.stdout}\n{result.stderr}")
        errors = [
            f"{Path(m.get('url', '')).stem} line {m.get('lastLine', '?')}: {m['message']}\n"
            f"    {m.get('extract', '').strip()}"
            for m in report["messages"]
            if m.get("type") in ("error", "non-document-error")
        ]
        assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)

    return check
