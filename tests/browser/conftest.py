"""Browser tests: Debian's Chromium, driven by Playwright, against live_server.

Run them alone with ``pytest -m browser``. Set ``BROWSER_SCREENSHOTS`` to a folder
to keep a screenshot of the pages the journeys stop to look at.
"""

import os
from base64 import b32decode
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP

# Debian's build, never one from `playwright install` (see docs/stack-notes.md).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# axe-core impact levels that fail a test; "minor" and "moderate" are left to
# review. https://github.com/dequelabs/axe-core/blob/develop/doc/API.md
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session", autouse=True)
def _async_unsafe_allowed():
    """Let Django's ORM run beside the event loop of Playwright's sync API.

    Django refuses database calls from a thread with a running loop; the tests
    here create people and read results in that thread. Set from the first
    browser test on, as long as Playwright's loop lives, never in settings.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run `apt-get install -y chromium`"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args():
    # pytest-playwright's own version asks for a fixture called `device` (a
    # phone to emulate); ours, in tests/conftest.py, is an authenticator.
    return {"locale": "en-GB", "timezone_id": "Europe/London"}


# axe-core's source (570 KB), read once. Axe().run would send it to the page
# and compile it again for each check; a page keeps it until it navigates.
AXE_SCRIPT = Axe().axe_script
# What Axe().run asks of axe-core: violations only.
AXE_RUN = "axe.run({resultTypes: ['violations']})"


def assert_accessible(page) -> None:
    """Run axe-core on the page; fail on any serious or critical violation."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(AXE_RUN)["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        details = "\n".join(_describe(v) for v in blocking)
        pytest.fail(f"axe-core found on {page.url}:\n{details}", pytrace=False)


def _describe(violation: dict) -> str:
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        lines.append(f"    {target}: {node['html']}")
    return "\n".join(lines)


def screenshot(page, name: str) -> None:
    """Keep a full-page screenshot when BROWSER_SCREENSHOTS names a folder."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def code_from_setup_key(setup_key: str) -> str:
    """What an authenticator app shows for the key a person typed in."""
    key = "".join(setup_key.split()).upper()
    secret = b32decode(key + "=" * (-len(key) % 8))
    return f"{TOTP(secret, step=30, digits=6).token():06d}"
