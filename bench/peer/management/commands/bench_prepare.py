"""Get a loaded database ready for the load tests and print what they need.

Signs in a referrer (at the organisation with the most referrals) and a
coordinator by writing verified sessions straight into the session store,
adds the peer page, shares a 1 MB file with the referrer's organisation, and
puts 40 accepted cases on one meeting whose pack the referrer may download,
timing five builds of that pack. Prints JSON: cookies, URLs and timings.
"""

import json
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.models import SharingAgreementPage
from agreements.selectors import case_material_access
from bench.peer.models import PeerPage
from bench.sessions import verified_session
from documents.services import share_create
from home.models import GuidancePage, HomePage
from meetings.models import Meeting, MeetingPack, MeetingStatus, PackSection
from meetings.services import (
    agenda_item_add,
    confidentiality_confirm,
    meeting_schedule,
    pack_build,
)
from referrals.models import Referral, Status

PACK_CASES = 40
PACK_100_CASES = 18
PACK_BUILDS = 5
MEETING_LOCATION = "Committee room 1 (benchmark)"


class Command(BaseCommand):
    help = "Prepare a loaded database for bench/run.py and print JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "--pack-builds",
            type=int,
            default=PACK_BUILDS,
            help="times to build and time the pack (0: the first download builds it)",
        )

    def handle(self, *args, **options):
        self.pack_builds = options["pack_builds"]
        referrer = self._referrer()
        coordinator = User.objects.filter(
            is_active=True, groups__name=Role.COORDINATOR.value
        ).first()
        home = HomePage.objects.get()
        peer = PeerPage.objects.first()
        if peer is None:
            peer = PeerPage(title="Peer page", slug="bench-peer")
            home.add_child(instance=peer)
            peer.save_revision().publish()
        referral = Referral.objects.filter(
            organisation_id=referrer.organisation_id
        ).latest("submitted_at")
        meeting, build_seconds, pages = self._meeting(referrer, coordinator)
        # The target is set for a 100-page pack: about 18 cases, built once.
        small = self._meeting(referrer, coordinator, PACK_100_CASES, days_ahead=21)
        small_pack = MeetingPack.objects.filter(
            meeting=small[0], organisation=referrer.organisation
        ).first() or pack_build(small[0], referrer.organisation)
        # A pack is only for someone who has confirmed the meeting's
        # confidentiality statement, as the referrer does before downloading.
        for each in (meeting, small[0]):
            confidentiality_confirm(meeting=each, user=referrer)
        out = {
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "cookies": {
                "referrer": verified_session(referrer),
                "coordinator": verified_session(coordinator),
            },
            "referrer": referrer.username,
            "coordinator": coordinator.username,
            "urls": {
                "peer": peer.url,
                "referral": referral.get_absolute_url(),
                "agreement": SharingAgreementPage.objects.live().first().url,
                "guidance": GuidancePage.objects.live().first().url,
                "download_1mb": self._file(referrer),
                "referral_invited": self._invited_case(meeting, referrer),
                "meeting": f"/meetings/{meeting.pk}/",
                "pack": f"/meetings/{meeting.pk}/pack/",
                "pack_100": f"/meetings/{small[0].pk}/pack/",
            },
            "pack": {
                "cases": PACK_CASES,
                "pages": pages,
                "small_cases": PACK_100_CASES,
                "small_pages": small_pack.pages,
                "build_seconds": build_seconds,
                "build_median_seconds": round(statistics.median(build_seconds), 2)
                if self.pack_builds
                else None,
            },
            "rows": {
                "referrals": Referral.objects.count(),
                "organisations": Organisation.objects.count(),
                "users": User.objects.count(),
            },
        }
        self.stdout.write(json.dumps(out))

    def _referrer(self) -> User:
        busiest = (
            Organisation.objects.annotate(n=Count("referrals"))
            .order_by("-n")
            .values_list("pk", flat=True)
        )
        for organisation_id in busiest[:10]:
            for user in User.objects.filter(
                organisation_id=organisation_id,
                is_active=True,
                groups__name=Role.REFERRER.value,
            ):
                if case_material_access(user).allowed:
                    return user
        raise SystemExit("No referrer with access to case material: load data first")

    def _invited_case(self, meeting: Meeting, referrer: User) -> str:
        """A case on the meeting made by another agency, to which the referrer's
        organisation is invited: the case page as an invited agency sees it."""
        referral = (
            Referral.objects.filter(
                agenda_items__meeting=meeting,
                agenda_items__invited=referrer.organisation,
            )
            .exclude(organisation_id=referrer.organisation_id)
            .order_by("pk")
            .first()
        )
        if referral is None:
            raise SystemExit("No case on the bench meeting from another agency")
        return referral.get_absolute_url()

    def _file(self, referrer: User) -> str:
        sender = (
            User.objects.filter(is_active=True, groups__name=Role.REFERRER.value)
            .exclude(organisation_id=referrer.organisation_id)
            .exclude(organisation__isnull=True)
            .first()
        )
        line = b"Shared file line for the benchmark download, nothing else.\n"
        content = line * (1024 * 1024 // len(line))
        share, _ = share_create(
            user=sender,
            uploads=[SimpleUploadedFile("bench 1 MB.txt", content, "text/plain")],
            organisations=[referrer.organisation],
        )
        return share.files.get().get_download_url()

    def _earlier_meeting(self, cases: int, days_ahead: int) -> Meeting | None:
        return (
            Meeting.objects.filter(
                location=MEETING_LOCATION,
                status=MeetingStatus.PAPERS_ISSUED,
                starts_at__date=(timezone.now() + timedelta(days=days_ahead)).date(),
            )
            .annotate(cases=Count("agenda_items"))
            .filter(cases=cases)
            .order_by("-pk")
            .first()
        )

    def _meeting(
        self, referrer: User, coordinator: User, cases_wanted: int = PACK_CASES,
        days_ahead: int = 20,
    ):  # fmt: skip
        if not self.pack_builds:
            # A second look on the same database: the meeting the last run
            # made, when there is one (making it again takes minutes).
            earlier = self._earlier_meeting(cases_wanted, days_ahead)
            if earlier is not None:
                return earlier, [], None
        cases = list(
            Referral.objects.filter(status=Status.ACCEPTED).order_by("-pk")[
                :cases_wanted
            ]
        )
        if len(cases) < cases_wanted:
            raise SystemExit(f"Need {cases_wanted} accepted referrals for the pack")
        starts = timezone.now() + timedelta(days=days_ahead)
        meeting = meeting_schedule(
            user=coordinator,
            starts_at=starts.replace(hour=10, minute=0, second=0, microsecond=0),
            chair=coordinator,
            location=MEETING_LOCATION,
        )
        for referral in cases:
            agenda_item_add(
                meeting=meeting,
                referral=referral,
                invited=[referrer.organisation],
                user=coordinator,
            )
        # Papers out for the referrer's organisation only: building every
        # invited agency's pack would take minutes and measure nothing more.
        Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.PAPERS_ISSUED)
        meeting.refresh_from_db()
        seconds = []
        pack = None
        for _ in range(self.pack_builds):
            # A full build each time: its cases' rendered sections go too
            # (bench/pack_rebuild.py times rebuilds that reuse them).
            PackSection.objects.filter(
                packs__meeting=meeting, packs__organisation=referrer.organisation
            ).delete()
            MeetingPack.objects.filter(
                meeting=meeting, organisation=referrer.organisation
            ).delete()
            started = time.perf_counter()
            pack = pack_build(meeting, referrer.organisation)
            seconds.append(round(time.perf_counter() - started, 2))
        return meeting, seconds, pack.pages if pack else None
