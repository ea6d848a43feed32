"""A subject access bundle at bench scale: the data protection officer's work
for one person of the bench data, timed, on PostgreSQL.

    .venv/bin/python bench/sar_bundle.py [--database portal_bench] [--rebuild]

Run after `make bench` or ``bench/person_index.py --load``. Scale data is
bulk-inserted, so the person index is empty until rebuilt: ``--rebuild``
rebuilds it first (as ``bench/person_index.py`` does; it also rebuilds when
the index is empty); ``--cases-only`` instead empties it and indexes only
the chosen person's cases and what belongs to them (their agenda items,
actions, case notes, shares and shared files), as the receivers would, when
a full rebuild would take too long on a busy machine: the search then finds
the same records of that person, and fewer namesakes. Then, through the
services, as the officer would:

1. pick the person the bench data refers most often (the same name and date
   of birth in the most cases: ``bench/scale.py`` draws people from fewer
   identities than places, so some are referred several times);
2. search for them by name and date of birth, and include every record in
   which both matched (the rest are namesakes);
3. open a request, record the identity check, add the records, review each
   one (disclose), and build the bundle (the PDF through ``portal.pdf`` and
   the JSON).

Prints the table of contents, the items, the PDF's size and the seconds the
build took (``DisclosureBundle.seconds``, as the portal records for every
bundle). Results go to ``bench/results/sar-bundle-<date>.json`` with the
commit and the load average, because the machine is shared.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--cases-only",
        action="store_true",
        help="index only the person's cases (referrals and what belongs to "
        "them) instead of rebuilding the whole index",
    )
    args = parser.parse_args()

    from bench.run import _environment, _machine

    media = Path(tempfile.mkdtemp())
    os.environ.update(_environment(args.database, media))
    import django

    django.setup()
    results = {
        **_machine(),
        "database": args.database,
        "load_before": os.getloadavg(),
        **_measure(rebuild=args.rebuild, cases_only=args.cases_only),
        "load_after": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    print("| Item | Source | Record | Date |")
    print("|---|---|---|---|")
    for row in results["contents"]:
        print(f"| {row['number']} | {row['source']} | {row['record']} | "
              f"{row['date']} |")  # fmt: skip
    index = (
        f"rebuilt in {results['rebuild_seconds']} s"
        if results["rebuild_seconds"]
        else f"{results['records_indexed_for_the_person_only']} records of the "
        "person's cases only"
        if results["records_indexed_for_the_person_only"] is not None
        else "as the last run left it"
    )
    print(
        f"\n{results['referrals']:,} referrals; index {index}; search "
        f"{results['search_ms']} ms ({results['hits']} hits, cut short: "
        f"{results['cut_short']}); {results['items']} items; PDF "
        f"{results['pdf_bytes'] / 1000:.1f} kB ({results['pdf_pages']} pages); "
        f"built in {results['bundle_seconds']} s. Load average "
        f"{results['load_before'][0]:.1f} before, {results['load_after'][0]:.1f} "
        f"after; commit {results['commit']}."
    )  # fmt: skip
    day = time.strftime("%Y-%m-%d")
    out = REPO / "bench" / "results" / f"sar-bundle-{day}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Written to {out.relative_to(REPO)}")


def _officer():
    from accounts.models import Role, User, role_group
    from referrals.models import Referral

    officer, _ = User.objects.get_or_create(
        username="bench.dpo",
        defaults={"organisation": Referral.objects.first().organisation},
    )
    officer.groups.add(role_group(Role.DPO))
    return User.objects.get(pk=officer.pk)


def _most_referred():
    from django.db.models import Count

    from referrals.models import ReferralPerson

    return (
        ReferralPerson.objects.exclude(date_of_birth=None)
        .values("full_name", "date_of_birth")
        .annotate(cases=Count("referral", distinct=True))
        .order_by("-cases", "full_name", "date_of_birth")
        .first()
    )


def _index_cases(referral_ids: list[int]) -> int:
    """Index the records of these cases only, as the receivers would when
    each is saved: a quick stand-in for the full rebuild (about six minutes
    on an idle machine, and far longer on a loaded one)."""
    from rights.services import record_index
    from rights.sources import SOURCES_BY_KEY

    lookups = {
        "referral": "pk__in",
        "case-note": "referral_id__in",
        "agenda-item": "referral_id__in",
        "action": "referral_id__in",
        "share": "referral_id__in",
        "shared-file": "share__referral_id__in",
    }
    indexed = 0
    for key, lookup in lookups.items():
        source = SOURCES_BY_KEY[key]
        ids = (
            source.records()
            .filter(**{lookup: referral_ids})
            .values_list("pk", flat=True)
        )
        for record_id in list(ids):
            record_index(source=source, record_id=record_id)
            indexed += 1
    return indexed


def _measure(*, rebuild: bool, cases_only: bool) -> dict:
    from django.utils import timezone
    from pypdf import PdfReader

    from referrals.models import Referral, ReferralPerson
    from rights.matching import query_read
    from rights.models import ItemDecision, PersonMention
    from rights.sar import (
        sar_bundle_build,
        sar_identity_record,
        sar_item_review,
        sar_items_add,
        sar_open,
    )
    from rights.selectors import person_search
    from rights.services import person_index_rebuild

    officer = _officer()
    person = _most_referred()
    name, born = person["full_name"], person["date_of_birth"]
    rebuild_seconds, cases_indexed = None, None
    if cases_only:
        PersonMention.objects.all().delete()
        cases_indexed = _index_cases(
            list(
                ReferralPerson.objects.filter(
                    full_name=name, date_of_birth=born
                ).values_list("referral_id", flat=True)
            )
        )
    elif rebuild or not PersonMention.objects.exists():
        rebuild_seconds = round(person_index_rebuild().seconds, 1)
    started = time.perf_counter()
    found = person_search(officer, query_read(f"{name} {born:%d/%m/%Y}"))
    search_ms = round((time.perf_counter() - started) * 1000, 1)
    hits = [hit for group in found.groups for hit in group.hits]
    # Both the name and the date of birth: the person, not a namesake.
    records = sorted({
        hit.record_key for hit in hits
        if "Date of birth" in hit.matched and any(
            label.startswith("Name") for label in hit.matched)
    })  # fmt: skip
    today = timezone.localdate()
    sar = sar_open(user=officer, requester_name=name, received_on=today,
                   requester_date_of_birth=born)  # fmt: skip
    sar = sar_identity_record(sar=sar, user=officer, method="documents",
                              checked_on=today, note="Bench run")  # fmt: skip
    started = time.perf_counter()
    items = sar_items_add(sar=sar, user=officer, records=records)
    for item in items:
        sar_item_review(item=item, user=officer, decision=ItemDecision.DISCLOSE)
    review_seconds = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    bundle = sar_bundle_build(sar=sar, user=officer)
    wall_seconds = round(time.perf_counter() - started, 2)
    with bundle.pdf.open("rb") as pdf:
        pages = len(PdfReader(pdf).pages)
    content = json.loads(bundle.json.open("rb").read())
    return {
        "referrals": Referral.objects.count(),
        "rebuild_seconds": rebuild_seconds,
        "records_indexed_for_the_person_only": cases_indexed,
        "person_cases": person["cases"],
        "search_ms": search_ms,
        "hits": found.hits,
        "cut_short": found.cut_short,
        "items": len(bundle.items),
        "add_and_review_seconds": review_seconds,
        "pdf_bytes": bundle.pdf_size,
        "pdf_pages": pages,
        "json_bytes": bundle.json_size,
        "bundle_seconds": bundle.seconds,
        "bundle_wall_seconds": wall_seconds,
        "sar": sar.reference,
        # Sources and dates only: the names stay in the bench database.
        "contents": [
            {key: item[key] for key in ("number", "source", "record", "date")}
            for item in content["items"]
        ],
    }


if __name__ == "__main__":
    main()
