"""`make bench`'s streaming check runs end to end (bench/streaming_memory.py).

It starts gunicorn on a database of its own, shares a file between two
organisations through the real pages and downloads it. It once stopped with
"the server did not start" once case material was kept to parties of the ISA
in force: its two organisations were parties to none. A small file and a
copy of this process's migrated SQLite test database keep it quick; the
benchmark itself uses 200 MB and migrates its own.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.slow


def test_a_file_is_shared_and_downloaded_whole_through_gunicorn(django_db_setup):
    script = Path(settings.BASE_DIR) / "bench" / "streaming_memory.py"
    command = [sys.executable, str(script), "--mb", "2"]
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        # Migrated, with only what the migrations made committed in it.
        command += ["--migrated-copy-of", database["NAME"]]
    finished = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        command,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:] + finished.stdout[-2000:]
    result = json.loads(finished.stdout[finished.stdout.index("{") :])
    assert result["file_mb"] == 2
    assert result["upload_seconds"] >= 0
    assert result["download_seconds"] >= 0
