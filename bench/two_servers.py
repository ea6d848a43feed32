"""The two-app-server check of `make bench`: two gunicorn instances on one
PostgreSQL database and one Redis, a change through one seen through the
other, and no cached page shown to the wrong person.

The check itself is the suite's test (tests/portal/test_two_servers.py), so
the bench and `make test` prove the same thing; this runs it on PostgreSQL.

Run: .venv/bin/python bench/two_servers.py [--database portal_bench]
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="portal_bench")
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{args.database}"
        ),
    }
    # Our own fixed command: pytest on one test file, on one process.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n0", "-q",
         "tests/portal/test_two_servers.py"],
        cwd=REPO, env=env, check=False,
    )  # fmt: skip
    raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()
