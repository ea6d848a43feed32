"""Where a benchmarked page spends its time, in-process, on the bench database.

Run after `make bench` (which leaves the loaded database behind):

    .venv/bin/python bench/profile_pages.py [--database portal_bench] [--runs 20]

For each page of the load test: the median and p95 time of one warm request
through the whole middleware stack, its CPU time in this process (Python,
not the database's or Redis's), the number of SQL queries, their total time
and the slowest of them, and the number of Redis commands; with --functions
N, the N functions taking the most time (cProfile, cumulative, or the order
PROFILE_SORT names, such as tottime). It signs in the same people as the
load test. Downloads are finished as gunicorn finishes them: a streamed
pack is read to its end, a stored file (sendfile) only closed.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--slowest", type=int, default=3)
    parser.add_argument(
        "--functions",
        type=int,
        default=0,
        metavar="N",
        help="also print the N functions with the most cumulative time (cProfile)",
    )
    parser.add_argument("pages", nargs="*", help="page names (default: all)")
    args = parser.parse_args()

    from bench.run import PAGES, _environment

    os.environ.update(
        _environment(args.database, Path(tempfile.mkdtemp()), args.redis_db)
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    prepared = _prepare()
    redis_calls = _count_redis_calls()
    for name, label, who, target in PAGES:
        if args.pages and name not in args.pages:
            continue
        path = prepared["urls"].get(target, target)
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies[settings.SESSION_COOKIE_NAME] = prepared["cookies"][who]
        status = _get(client, path).status_code  # warm
        times, cpu = [], []
        for _ in range(args.runs):
            started, began = time.perf_counter(), time.process_time()
            _get(client, path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - began) * 1000)
        redis_before = redis_calls["count"]
        _get(client, path)
        redis = redis_calls["count"] - redis_before
        # Each request starts by emptying the query log (request_started), so
        # empty it first too, or the capture's start index runs past the end.
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            _get(client, path)
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        # p95 of the runs (needs at least two): issue 23's targets are p95s.
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(
            f"{label:38} {status} {statistics.median(times):7.1f} ms "
            f"(p95 {p95:7.1f}, CPU {statistics.median(cpu):5.1f})  "
            f"{len(queries):3} queries {sql_ms:6.1f} ms  {redis} Redis calls"
        )
        slowest = sorted(
            queries.captured_queries, key=lambda q: float(q["time"]), reverse=True
        )
        for query in slowest[: args.slowest]:
            print(f"    {float(query['time']) * 1000:6.1f} ms  {query['sql'][:150]}")
        if args.functions:
            _print_profile(client, path, args.runs, args.functions)


def _get(client, path):
    """GET ``path`` and finish the response as the server would: a download
    streamed through Python (a meeting pack) is read to its end; a stored
    file handed to the file wrapper (FileResponse) is only closed, as
    gunicorn sends its bytes with sendfile(2). Closing ends the request
    (request_finished), and its work after commit, as under gunicorn."""
    response = client.get(path)
    if not response.streaming:
        return response  # the test client has closed it
    if getattr(response, "file_to_stream", None) is None:
        for _chunk in response.streaming_content:  # closed at the end
            pass
    else:
        response.close()
    return response


def _count_redis_calls() -> dict:
    """Count the commands sent to Redis (a pipeline counts once)."""
    import redis

    calls = {"count": 0}
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        calls["count"] += 1
        return original(self, *args, **options)

    redis.Redis.execute_command = counted
    return calls


def _print_profile(client, path, runs, limit) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        _get(client, path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(
        os.environ.get("PROFILE_SORT", "cumulative")
    ).print_stats(limit)


def _prepare() -> dict:
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("bench_prepare", pack_builds=0, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


if __name__ == "__main__":
    main()
