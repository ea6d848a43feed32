"""The board's statistics page at bench scale, in-process, on PostgreSQL.

    .venv/bin/python bench/board_page.py [--database portal_bench] [--runs 5]
        [--redis-db 7]

Run after `make bench` or ``bench/person_index.py --load`` (either leaves a
loaded database behind). Signs in a board member (a verified session written
straight into the session store) and asks for ``/board/`` through Django's
test client (the whole middleware stack, the default period: the last 12
months) once to warm up, then ``--runs`` times in each of three states:

- **live**: no stored snapshot (a fresh install, a new month, a stopped
  worker) and the portal's caches just outdated: the page works the figures
  out and draws the charts, then stores them (board.snapshots);
- **cold**: the worker's snapshot stored, and the portal's freshness token
  replaced before each request (``portal.freshness.outdate()``), as after any
  change anywhere in the portal;
- **warm**: the snapshot stored and nothing changed between requests.

It prints the best and median of each, the cold page's queries, the time of
the figures alone (``board_figures``, without the charts and the template)
and of the worker's whole refresh (``snapshots_refresh``: every standard
period). Results go to ``bench/results/board-page-<date>.json`` with the
commit and the load average, because the machine is shared.
"""

import argparse
import json
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis-db", type=int, default=7)
    args = parser.parse_args()

    from bench.run import _environment, _machine

    os.environ.update(
        _environment(args.database, Path(tempfile.mkdtemp()), args.redis_db)
    )
    import django

    django.setup()
    results = {
        **_machine(),
        "database": args.database,
        "load_before": os.getloadavg(),
        **_measure(args.runs),
        "load_after": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    states = "; ".join(
        f"{state} median {results[state]['median_ms']} ms (best "
        f"{results[state]['best_ms']})"
        for state in ("live", "cold", "warm")
    )
    print(
        f"/board/ as a board member, {results['referrals_in_period']:,} of "
        f"{results['referrals']:,} referrals in the period, {args.runs} runs "
        f"each: {states}. Cold: {results['queries']} queries "
        f"({results['sql_ms']} ms in SQL). The figures alone "
        f"{results['figures_median_ms']} ms median; the worker's refresh of "
        f"every standard period {results['refresh_ms']} ms. Load average "
        f"{results['load_before'][0]:.1f} before, "
        f"{results['load_after'][0]:.1f} after; commit {results['commit']}."
    )
    day = time.strftime("%Y-%m-%d")
    out = REPO / "bench" / "results" / f"board-page-{day}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Written to {out.relative_to(REPO)}")


def _timed(call, runs: int, before=None) -> list[float]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float]) -> dict:
    return {
        "best_ms": round(min(times), 1),
        "median_ms": round(statistics.median(times), 1),
        "all_ms": [round(t, 1) for t in times],
    }


def _measure(runs: int) -> dict:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role, User, role_group
    from bench.sessions import verified_session
    from board.figures import board_figures
    from board.models import FiguresSnapshot
    from board.periods import last_twelve_months
    from board.snapshots import snapshots_refresh
    from portal.freshness import outdate
    from referrals.models import Referral

    member, _ = User.objects.get_or_create(
        username="bench.board",
        defaults={"organisation": Referral.objects.first().organisation},
    )
    member.groups.add(role_group(Role.BOARD))
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session(member)

    def look():
        page = client.get("/board/")
        if page.status_code != 200 or b"Referrals by month" not in page.content:
            raise SystemExit(
                f"/board/ answered {page.status_code} {page.get('Location', '')}"
            )

    def nothing_stored():
        FiguresSnapshot.objects.all().delete()
        outdate()

    look()  # warm: the process, its templates and connections
    live = _timed(look, runs, before=nothing_stored)
    started = time.perf_counter()
    snapshots_refresh()
    refresh_ms = (time.perf_counter() - started) * 1000
    cold = _timed(look, runs, before=outdate)
    warm = _timed(look, runs)
    # Each request empties the query log first (request_started): so here.
    outdate()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        look()
    period = last_twelve_months()
    figures_times = _timed(lambda: board_figures(period), runs)
    return {
        "runs": runs,
        "live": _summary(live),
        "cold": _summary(cold),
        "warm": _summary(warm),
        "refresh_ms": round(refresh_ms, 1),
        "queries": len(queries),
        "sql_ms": round(
            sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1
        ),
        "slowest_queries": [
            {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:300]}
            for q in sorted(
                queries.captured_queries, key=lambda q: float(q["time"]), reverse=True
            )[:3]
        ],
        "figures_median_ms": round(statistics.median(figures_times), 1),
        "referrals": Referral.objects.count(),
        "referrals_in_period": Referral.objects.filter(
            submitted_at__gte=period.start, submitted_at__lt=period.end
        ).count(),
    }


if __name__ == "__main__":
    main()
