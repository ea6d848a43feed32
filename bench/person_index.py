"""The person index at bench scale: how long a full rebuild takes, and a
data protection officer's searches, on the bench database.

    .venv/bin/python bench/person_index.py [--database portal_bench] [--load]

``--load`` makes the database first, as `make bench` does (a fresh
PostgreSQL database, migrated, with ``load_scale_data``: 20,000 referrals at
``--scale 1``); without it the database `make bench` left behind is used.
Scale data is written with bulk inserts, which skip the index's signals, so
the index is empty until this rebuilds it: the same job the nightly
``rebuild_person_index`` does. Results are printed and written to
``bench/results/person-index-<date>.json``.
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
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--searches-only",
        action="store_true",
        help="time the searches on the index the last run built",
    )
    args = parser.parse_args()

    from bench.run import _environment, _prepare_database

    env = _environment(args.database, Path(tempfile.mkdtemp()))
    if args.load:
        _prepare_database(env, args.database, args.scale)
    os.environ.update(env)
    import django

    django.setup()
    results = _measure(args.runs, rebuild=not args.searches_only)
    results["database"] = args.database
    for line in _table(results):
        print(line)
    day = time.strftime("%Y-%m-%d")
    out = REPO / "bench" / "results" / f"person-index-{day}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Written to {out.relative_to(REPO)}")


def _measure(runs: int, *, rebuild: bool = True) -> dict:
    from accounts.models import Role, User, role_group
    from referrals.models import Referral, ReferralPerson
    from rights.matching import query_read
    from rights.models import PersonMention
    from rights.selectors import person_search, trigram_available
    from rights.services import person_index_rebuild

    officer, _ = User.objects.get_or_create(
        username="bench.dpo",
        defaults={"organisation": Referral.objects.first().organisation},
    )
    officer.groups.add(role_group(Role.DPO))
    officer = User.objects.get(pk=officer.pk)

    from rights.services import RebuildResult

    built = person_index_rebuild() if rebuild else RebuildResult()
    someone = ReferralPerson.objects.exclude(date_of_birth=None).order_by("pk")[100]
    words = someone.full_name.split()
    answers = someone.referral.answers["people"]["people"][0]
    searches = {
        "full name": someone.full_name,
        "initial and surname": f"{words[0][0]} {words[-1]}",
        "date of birth": someone.date_of_birth.strftime("%d/%m/%Y"),
        "postcode": answers.get("postcode") or "N1 1XA",
        "phone": answers.get("phone") or "07700 900 982",
        "name and date of birth": f"{someone.full_name} "
        f"{someone.date_of_birth:%d/%m/%Y}",
    }
    timed = {}
    for label, typed in searches.items():
        query = query_read(typed)
        found = person_search(officer, query)  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            person_search(officer, query)
            times.append((time.perf_counter() - started) * 1000)
        timed[label] = {
            "median_ms": round(statistics.median(times), 1),
            "hits": found.hits,
            "groups": len(found.groups),
        }
    return {
        "referrals": Referral.objects.count(),
        "records_indexed": built.records,
        "index_rows": PersonMention.objects.count(),
        "rebuild_seconds": round(built.seconds, 1),
        "trigram": trigram_available(),
        "searches": timed,
    }


def _table(results: dict) -> list[str]:
    lines = [
        f"{results['referrals']:,} referrals; {results['records_indexed']:,} "
        f"records indexed into {results['index_rows']:,} rows in "
        f"{results['rebuild_seconds']} s (pg_trgm: {results['trigram']})",
        "",
        "| search | median | hits | cases, meetings or shares |",
        "|---|---|---|---|",
    ]
    for label, figures in results["searches"].items():
        lines.append(
            f"| {label} | {figures['median_ms']} ms | {figures['hits']} | "
            f"{figures['groups']} |"
        )
    return lines


if __name__ == "__main__":
    main()
