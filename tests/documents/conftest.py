"""Fixtures for the document tests: a real clamd with a test signature."""

import pytest

from tests.documents.clamd import require_clamav, start_clamd


@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory):
    """The address, as 127.0.0.1:PORT, of a clamd started for this test run.

    Skips when ClamAV is not installed, and fails instead under CI.
    """
    require_clamav()
    host, port, stop = start_clamd(tmp_path_factory.mktemp("clamd"))
    try:
        yield f"{host}:{port}"
    finally:
        stop()


@pytest.fixture
def clamav(settings, clamd_address):
    """Scanning switched on, against the test clamd."""
    settings.CLAMAV_ADDRESS = clamd_address
    return clamd_address
