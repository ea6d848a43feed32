"""How long agenda and invitation changes take, in-process, on the bench data.

Issue 23 asks that a coordinator's agenda change (add a case, remove one, move
one, change who is invited) answer in under 300 ms at the 95th percentile on
the bench data. This makes 20 such changes through the Django test client as
a coordinator with a verified session, on a meeting whose papers are out (so
every change also outdates its packs), and prints each change's time and
query count, then p50 and p95 of the changes and of the meeting page the
coordinator is sent back to.

Load the bench database first (once; see bench/run.py and docs/benchmarks.md):

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://.../portal_packs \\
        .venv/bin/python manage.py load_scale_data --scale 1 \\
        --i-know-this-is-not-production

then run:

    .venv/bin/python bench/agenda_changes.py [--database portal_packs]

The changes add and remove the same cases, so the agenda ends as it began;
the build tasks they queue stay queued (no worker runs here).
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHANGES = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_packs")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="cache and sessions (not make bench's database 7, which may be busy)",
    )
    parser.add_argument("--changes", type=int, default=CHANGES)
    args = parser.parse_args()

    from bench.run import _environment

    os.environ.update(_environment(args.database, Path(tempfile.mkdtemp())))
    os.environ["REDIS_URL"] = args.redis_url
    import django

    django.setup()
    _measure(args.changes)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(changes: int) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Role, User
    from meetings import selectors
    from meetings.models import Meeting, MeetingStatus

    coordinator = User.objects.filter(
        is_active=True, groups__name=Role.COORDINATOR.value
    ).first()
    meeting = (
        Meeting.objects.filter(status=MeetingStatus.PAPERS_ISSUED)
        .order_by("starts_at")
        .first()
    )
    if coordinator is None or meeting is None:
        raise SystemExit("Load the bench data first (see this file's docstring)")
    client = Client(HTTP_HOST="127.0.0.1")
    # Signed in with the second factor passed, as the tests sign people in.
    client.force_login(coordinator, backend="accounts.backends.PartnerBackend")
    device = TOTPDevice.objects.filter(user=coordinator, confirmed=True).first()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page = meeting.get_absolute_url()
    organisations = list(selectors.organisations_to_invite()[:6])
    waiting = list(
        selectors.referrals_for_agenda(coordinator, meeting).values_list(
            "reference", flat=True
        )[:changes]
    )

    def items():
        return list(meeting.agenda_items.order_by("position"))

    def add(step: int):
        return reverse("meetings:agenda_add", args=[meeting.pk]), {
            "referral": waiting[step],
            "invited": [organisations[step % len(organisations)].pk],
            "share_reason": "",
            "slot_minutes": "15",
        }

    def remove(step: int):
        last = items()[-1]
        return reverse("meetings:agenda_remove", args=[meeting.pk, last.pk]), {}

    def move(step: int):
        first = items()[0]
        return reverse("meetings:agenda_move", args=[meeting.pk, first.pk]), {
            "direction": "down"
        }

    def invite(step: int):
        # The case this run added: the scale data's own items may invite
        # organisations no longer in good standing, which the form refuses.
        item = items()[-1]
        # Any but the referring organisation, which is invited anyway.
        others = [o for o in organisations if o.pk != item.referral.organisation_id]
        organisation = others[step % len(others)]
        current = {o.pk for o in item.invited.all()} - {item.referral.organisation_id}
        wanted = current ^ {organisation.pk}
        return reverse("meetings:agenda_invite", args=[meeting.pk, item.pk]), {
            "invited": sorted(wanted),
            "share_reason": "",
        }

    # Add, move, invite, remove: the agenda ends as it began.
    kinds = [("add", add), ("move", move), ("invite", invite), ("remove", remove)]
    warm = client.get(page)
    if warm.status_code != 200:
        where = warm.get("Location", "")
        raise SystemExit(f"The meeting page answered {warm.status_code} {where}")
    timings: dict[str, list[float]] = {name: [] for name, _ in kinds}
    all_ms, queries_seen, page_ms, page_queries = [], [], [], []
    for step in range(changes):
        name, plan = kinds[step % len(kinds)]
        url, data = plan(step)
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            if os.environ.get("PROFILE") == name:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                response = profiler.runcall(client.post, url, data)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            else:
                response = client.post(url, data)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 400:
            page = response.content.decode()
            print(re.findall(r'govuk-error-message">(.*?)<', page, re.DOTALL))
            print(re.findall(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL))
        if response.status_code != 302 or not response.url.startswith(page):
            where = response.get("Location", "")
            raise SystemExit(f"{name} answered {response.status_code} {where}: {url}")
        timings[name].append(elapsed)
        all_ms.append(elapsed)
        queries_seen.append(len(queries))
        print(f"{step + 1:2} {name:7} {elapsed:7.1f} ms {len(queries):4} queries")
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            client.get(page)
            page_ms.append((time.perf_counter() - started) * 1000)
        page_queries.append(len(queries))
    print()
    for name, values in timings.items():
        print(f"{name:7} median {statistics.median(values):7.1f} ms")
    print(
        f"changes: p50 {statistics.median(all_ms):.1f} ms, "
        f"p95 {_percentile(all_ms, 0.95):.1f} ms, "
        f"queries {min(queries_seen)}-{max(queries_seen)}"
    )
    print(
        f"meeting page after each: p50 {statistics.median(page_ms):.1f} ms, "
        f"p95 {_percentile(page_ms, 0.95):.1f} ms, "
        f"queries {min(page_queries)}-{max(page_queries)}"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
