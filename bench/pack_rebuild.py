"""How long a 40-case meeting pack takes to build from nothing, and to rebuild
after one case changed, on the bench data (issue 23: under 8 s and 3 s).

Puts the 40 newest accepted referrals on a new meeting (as bench_prepare
does), then times, median of ``--runs``:

- a full build: no pack and none of its case sections stored;
- a rebuild after one case changed (its risk level, a different case each
  time): only that case's section and the front are rendered.

Load the bench database first (see bench/agenda_changes.py), then:

    .venv/bin/python bench/pack_rebuild.py [--database portal_packs]

Each figure is wall time, with the CPU time of this process and of the child
processes that render the sections beside it (``PDF_RENDER_PROCESSES``, the
machine's cores by default): on a shared machine the CPU time says what a
change saved when other jobs take the cores.

The meeting is deleted afterwards; the referrals keep the changed risk levels
(bench data only).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_packs")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument(
        "--whole", type=int, default=1, help="times to render the pack whole, as before"
    )
    args = parser.parse_args()

    from bench.run import _environment

    os.environ.update(_environment(args.database, Path(tempfile.mkdtemp())))
    os.environ["REDIS_URL"] = args.redis_url
    import django

    django.setup()
    _measure(args)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the section
    renders run in child processes): steadier than wall time on a shared
    machine, where another run takes cores away."""
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU: list[float] = []


def _timed(build) -> float:
    started, cpu = time.perf_counter(), _cpu_seconds()
    build()
    CPU.append(_cpu_seconds() - cpu)
    return time.perf_counter() - started


def _measure(args) -> None:
    from datetime import timedelta

    from django.template.loader import render_to_string
    from django.utils import timezone

    from accounts.models import Role, User
    from meetings.models import Meeting, MeetingPack, MeetingStatus, PackSection
    from meetings.services import (
        agenda_item_add,
        meeting_schedule,
        pack_build,
        pack_context,
    )
    from meetings.watermark import watermark_prepare
    from portal.pdf import html_to_pdf
    from referrals.models import Referral, RiskLevel, Status

    coordinator = User.objects.filter(
        is_active=True, groups__name=Role.COORDINATOR.value
    ).first()
    cases = list(Referral.objects.filter(status=Status.ACCEPTED).order_by("-pk"))[
        : args.cases
    ]
    organisation = cases[0].organisation
    starts = timezone.now() + timedelta(days=30)
    meeting = meeting_schedule(
        user=coordinator,
        starts_at=starts.replace(hour=10, minute=0, second=0, microsecond=0),
        chair=coordinator,
        location="Committee room 1 (pack rebuild benchmark)",
    )
    try:
        for referral in cases:
            agenda_item_add(
                meeting=meeting,
                referral=referral,
                invited=[organisation],
                user=coordinator,
            )
        Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.PAPERS_ISSUED)
        meeting.refresh_from_db()

        def from_nothing():
            pack = MeetingPack.objects.filter(meeting=meeting).first()
            if pack is not None:
                pack.sections.all().delete()
                pack.delete()
            return pack_build(meeting, organisation)

        full = [_timed(from_nothing) for _ in range(args.runs)]
        full_cpu = CPU[:]
        pack = MeetingPack.objects.get(meeting=meeting)
        changed = []
        for run in range(args.runs):
            referral = cases[(run * 7) % len(cases)]
            referral.refresh_from_db()
            risk = (
                RiskLevel.MEDIUM
                if referral.risk_level == RiskLevel.HIGH
                else RiskLevel.HIGH
            )
            Referral.objects.filter(pk=referral.pk).update(risk_level=risk)
            changed.append(_timed(lambda: pack_build(meeting, organisation)))
        changed_cpu = CPU[len(full_cpu) :]
        pack = MeetingPack.objects.get(meeting=meeting)
        whole = []
        for _ in range(args.whole):
            html = render_to_string(
                "meetings/pdf/pack.html", pack_context(meeting, organisation)
            )
            whole.append(_timed(lambda html=html: watermark_prepare(html_to_pdf(html))))
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO, capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        print(f"{args.cases}-case pack, {pack.pages} pages, commit {commit}")
        print("full build:     " + " ".join(f"{s:.2f}" for s in full)
              + f"  median {statistics.median(full):.2f} s"
              + f" (CPU {statistics.median(full_cpu):.2f} s)")  # fmt: skip
        print("one case changed: " + " ".join(f"{s:.2f}" for s in changed)
              + f"  median {statistics.median(changed):.2f} s"
              + f" (CPU {statistics.median(changed_cpu):.2f} s)")  # fmt: skip
        if whole:
            print(f"rendered whole, as before: median {statistics.median(whole):.2f} s")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for pack in MeetingPack.objects.filter(meeting=meeting):
            pack.delete()
        Meeting.objects.filter(pk=meeting.pk).delete()
        PackSection.objects.filter(packs__isnull=True).delete()


if __name__ == "__main__":
    main()
