"""Where a page's time goes when gunicorn serves it under wrk, not in-process.

Run after `make bench` (which leaves the loaded database behind):

    .venv/bin/python bench/profile_server.py [--seconds 10] [--functions 40] PAGE ...

For each page of the load test it starts one gunicorn worker with the whole
worker process under cProfile (gunicorn's own parsing and writing included),
drives it with wrk for the given time, and prints the worker's requests a
second, its CPU time per request and the functions that took the most time.
In-process profiles (bench/profile_pages.py) leave out what only a real
server does: reading the socket, parsing headers, writing the response.
"""

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import (  # noqa: E402
    PAGES,
    PYTHON,
    _environment,
    _free_port,
    _run,
    _status,
    _wrk,
)

HOOKS = """
import cProfile, os
_profile = cProfile.Profile()

def post_worker_init(worker):
    _profile.enable()

def worker_exit(server, worker):
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
"""


def _serve(env: dict, hooks: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [PYTHON, "-m", "gunicorn", "portal.wsgi", "--workers", "1",
         "--config", str(hooks), "--bind", f"127.0.0.1:{port}",
         "--timeout", "120", "--log-level", "warning"],
        cwd=REPO, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _status(f"{base}/bench/ok/", "x=y") == 200:
                return server, base
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--functions", type=int, default=40)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("pages", nargs="+", choices=[name for name, *_ in PAGES])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile-server-"))
    env = _environment(args.database, REPO / "var" / "bench-media", args.redis_db)
    hooks = work / "hooks.py"
    hooks.write_text(HOOKS)
    prepared = json.loads(
        _run([PYTHON, "manage.py", "bench_prepare", "--pack-builds=0"], env)
        .strip()
        .splitlines()[-1]
    )
    for name, label, who, target in PAGES:
        if name not in args.pages:
            continue
        out = work / f"{name}.prof"
        server, base = _serve({**env, "BENCH_PROFILE_OUT": str(out)}, hooks)
        try:
            url = f"{base}{prepared['urls'].get(target, target)}"
            cookie = f"{prepared['cookie_name']}={prepared['cookies'][who]}"
            _wrk(url, cookie, 2, args.connections)  # warm up
            before = _children_cpu(server.pid)
            result = _wrk(url, cookie, args.seconds, args.connections)
            cpu = _children_cpu(server.pid) - before
        finally:
            server.terminate()
            server.wait(timeout=60)
        requests = result["rps"] * args.seconds
        print(
            f"\n=== {label}: {result['rps']:.0f} req/s with one worker, "
            f"worker CPU {1000 * cpu / max(requests, 1):.2f} ms a request "
            f"(profiled, so slower than unprofiled)",
            flush=True,
        )
        if out.exists():
            stats = pstats.Stats(str(out))
            stats.sort_stats(args.sort).print_stats(args.functions)


def _children_cpu(pid: int) -> float:
    """User and system CPU seconds of the server's worker processes so far."""
    total = 0.0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            stat = (child / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:  # ppid
            ticks = os.sysconf("SC_CLK_TCK")
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


if __name__ == "__main__":
    main()
