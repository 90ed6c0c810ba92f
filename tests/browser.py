"""Headless Chromium (Debian's) driven by Playwright, for the browser journeys."""

import contextlib

from tests.conftest import require_tool

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Generous: other test suites share this machine's two cores.
TIMEOUT_MS = 60_000


@contextlib.contextmanager
def chromium_page(monkeypatch):
    """A fresh page in a headless Chromium, closed on exit."""
    chromium = require_tool("chromium", "the browser journey drives headless Chromium")
    # Playwright's sync API keeps an asyncio loop in this thread, which makes
    # Django refuse ORM calls from the test itself; the test is not async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_ARGS)
        # English whatever the machine's locale: the site follows the browser's language.
        page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="en-US")
        page.set_default_timeout(TIMEOUT_MS)
        try:
            yield page
        finally:
            browser.close()
