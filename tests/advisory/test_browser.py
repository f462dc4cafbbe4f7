"""The advisor's path through the web UI in a real Chromium, driven by Playwright."""

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Where the screenshot is kept after the run (var/ is the project's local state, not committed).
OUTPUT = Path(__file__).resolve().parents[2] / "var" / "test-output"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def site(transactional_db):
    """A live server of this test's own, stopped when the test ends.

    Its request threads keep their database connections while the browser keeps their HTTP
    connections alive; those are closed here so the test database can be dropped.
    """
    from django.db import connection
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost")
    yield server
    server.stop()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def browser_page(site, monkeypatch):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package")
    # Playwright's sync API runs an event loop in this thread; the test's own queries are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        yield page
        browser.close()


def test_an_advisor_asks_about_a_client_and_opens_a_citation(site, browser_page, clients, knowledge):
    page = browser_page
    page.goto(f"{site.url}/advisory/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.click("text=Maria Keller")
    assert page.locator("h1").inner_text() == "Maria Keller"
    assert page.locator(".keywords li").count() > 0

    page.fill("textarea[name=question]", "Is the Short Duration Bond Fund suitable given her risk tolerance?")
    page.click("button:has-text('Ask')")
    answer = page.locator("#answers article.answer").first
    answer.locator("a.cite").first.wait_for(timeout=30_000)
    assert "risk tolerance: moderate" in answer.locator(".text").inner_text()
    assert "risk_tolerance" in answer.locator(".meta").inner_text()

    answer.locator("a.cite").first.click()
    passage = page.locator("#passage .passage")
    passage.wait_for(timeout=10_000)
    assert passage.inner_text().strip()

    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "advisory-answer.png"), full_page=True)

    answer.locator("button[aria-label=Helpful]").click()
    page.locator(".thanks").wait_for(timeout=10_000)
