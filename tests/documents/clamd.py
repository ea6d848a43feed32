"""The tests' clamd: files.local_clamd, started once per run (tests/conftest.py)."""

import os

import pytest

from files.local_clamd import (  # noqa: F401  (the tests' names for them)
    EICAR_REPORTED_SIGNATURE,
    EICAR_SIGNATURE_NAME,
    INSTALL_HINT,
    clamav_missing,
    eicar_bytes,
    find_program,
    start_clamd,
)


def require_clamav() -> None:
    """Skip the test when ClamAV is not installed; fail instead under CI.

    CI installs ClamAV itself (.ci/run), so a missing clamd there is a real fault.
    """
    missing = clamav_missing()
    if not missing:
        return
    reason = f"{' and '.join(missing)} not found: run `{INSTALL_HINT}`"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
