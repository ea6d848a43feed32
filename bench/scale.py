"""Scale data for benchmarks: a partnership ten times the demo's size, loaded
with bulk inserts in minutes (``manage.py load_scale_data``).

``seed_demo`` goes through the services so that the demo obeys every rule;
20,000 referrals made that way would take hours. This module writes rows
directly instead, and mirrors what the services would have done:

- references follow each year's ``ReferenceCounter``, which is moved on, so
  the next real submission gets the next number;
- a referral's ``answers`` are cleaned by the real section forms once and
  then templated, so they have exactly the shape the form stores;
- audit events are signed with the current audit key by
  ``AuditEvent.compute_hash`` and chained from the newest event, under the
  chain's lock, as ``audit_record`` chains them;
- agreements are published, and acknowledged, through the services.

Everything happens in one transaction: a load that fails leaves nothing
behind (stored files included). Every person, place and file is invented.

It lives in the portal package because scale data spans every app, as
``portal/urls.py`` does.
"""

import hashlib
import os
import random
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.models import Page

from accounts.demo import FIRST_NAMES
from accounts.models import Organisation, OrganisationType, Role, User, role_group
from agreements.demo import ISA_CLAUSES, PROTOCOL_CLAUSES
from agreements.models import (
    AgreementIndexPage,
    ChangeType,
    ProtocolPage,
    SharingAgreementPage,
)
from agreements.selectors import current_versions
from agreements.services import acknowledgement_record
from audit.audit_actions import AuditAction, AuthAction
from audit.chain import GENESIS_HASH
from audit.keys import signing_key
from audit.models import AuditEvent, Outcome
from audit.services import audit_chain_lock
from documents.audit_actions import DocumentAction
from documents.models import (
    FileDownload,
    ScanStatus,
    Share,
    SharedFile,
    ShareRecipient,
    ShareTarget,
)
from files.storage import generated_name
from home.models import GuidanceIndexPage, GuidancePage, HomePage
from meetings.audit_actions import MeetingAction
from meetings.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from meetings.services import REVIEW_DAYS
from portal.calendar import working_day_on_or_after
from portal.dates import long_datetime
from referrals.answers import bind
from referrals.audit_actions import ReferralAction
from referrals.forms import ASB_TYPES, SECTIONS
from referrals.models import (
    EventKind,
    PersonRole,
    ReferenceCounter,
    Referral,
    ReferralDraft,
    ReferralEvent,
    ReferralPerson,
    ReferralShare,
    RiskLevel,
    SectionState,
    ShareReason,
    Status,
    name_key,
)
from referrals.repeats import repeat_flags_set

SLUG_PREFIX = "scale-"
USERNAME_PREFIX = "scale-user-"
# For throwaway benchmark databases only; the command prints it.
BENCH_PASSWORD = "cmarac-scale-bench-2026"  # noqa: S105
BATCH_SIZE = 2000
FILE_BYTES = 200


@dataclass(frozen=True)
class Sizes:
    """How much to load. ``FULL`` is ten times the demo partnership."""

    organisations: int
    users: int
    coordinators: int
    editors: int
    referrals: int
    people_per_referral: int
    incidents_per_referral: int
    meetings: int
    upcoming_meetings: int
    cases_per_meeting: int
    actions_per_case: int
    shares: int
    files_per_share: int
    guidance_pages: int
    audit_events: int

    @property
    def referrers(self) -> int:
        return self.users - self.coordinators - self.editors - self.organisations


FULL = Sizes(
    organisations=60,
    users=2_000,
    coordinators=4,
    editors=6,
    referrals=20_000,
    people_per_referral=3,
    incidents_per_referral=2,
    meetings=500,
    upcoming_meetings=10,
    cases_per_meeting=8,
    actions_per_case=2,
    shares=10_000,
    files_per_share=5,
    guidance_pages=200,
    audit_events=500_000,
)


def sizes_for(scale: float) -> Sizes:
    """``FULL`` times ``scale``, never below what makes a working partnership:
    three organisations, each with a signatory and a referrer; a past and an
    upcoming meeting."""

    def scaled(full: int, least: int) -> int:
        return max(least, round(full * scale))

    organisations = scaled(FULL.organisations, 3)
    coordinators = scaled(FULL.coordinators, 1)
    editors = scaled(FULL.editors, 1)
    meetings = scaled(FULL.meetings, 2)
    return Sizes(
        organisations=organisations,
        users=max(scaled(FULL.users, 1), coordinators + editors + 2 * organisations),
        coordinators=coordinators,
        editors=editors,
        referrals=scaled(FULL.referrals, 1),
        people_per_referral=FULL.people_per_referral,
        incidents_per_referral=FULL.incidents_per_referral,
        meetings=meetings,
        upcoming_meetings=min(meetings - 1, scaled(FULL.upcoming_meetings, 1)),
        cases_per_meeting=FULL.cases_per_meeting,
        actions_per_case=FULL.actions_per_case,
        shares=scaled(FULL.shares, 1),
        files_per_share=FULL.files_per_share,
        guidance_pages=scaled(FULL.guidance_pages, 1),
        audit_events=scaled(FULL.audit_events, 1),
    )


class ScaleDataExists(Exception):
    """Scale data is loaded already; loading it twice would clash."""


def scale_data_exists() -> bool:
    return (
        Organisation.objects.filter(slug__startswith=SLUG_PREFIX).exists()
        or User.objects.filter(username__startswith=USERNAME_PREFIX).exists()
    )


def load_scale_data(
    *, scale: float = 1.0, sizes: Sizes | None = None,
    password: str = BENCH_PASSWORD, seed: int = 2026,
    report: Callable[[str], None] | None = None,
) -> "ScaleLoader":  # fmt: skip
    """Load the scale partnership (``sizes``, or ``FULL`` times ``scale``);
    returns the loader with what it made, its counts and timings. Raises
    ScaleDataExists if scale data is loaded already."""
    loader = ScaleLoader(
        scale=scale, sizes=sizes, password=password, seed=seed, report=report
    )
    loader.run()
    return loader


# Invented surnames in the demo's style (built on "sample", "example", "test").
_SURNAME_STEMS = (
    "Sample", "Example", "Test", "Demo", "Proof", "Trial", "Specimen", "Mock",
    "Pilot", "Draft",
)  # fmt: skip
_SURNAME_ENDS = (
    "ton", "field", "ford", "well", "by", "wick", "ham", "ley", "more", "dale",
    "worth", "stead",
)  # fmt: skip
SURNAMES = tuple(stem + end for stem in _SURNAME_STEMS for end in _SURNAME_ENDS)

_INCIDENTS = (
    "Shouting and banging on the door late at night.",
    "Rubbish set alight outside the flat.",
    "Threats made on the stairwell in front of the children.",
    "Windows broken with stones thrown from the car park.",
    "Music through the ceiling until 4am, for the third night running.",
    "Strangers came to the flat and would not leave.",
)
_ACTIONS = (
    "Visit the household with a housing officer and review the tenancy.",
    "Add the address to the patrol plan for evenings and weekends.",
    "Offer a recovery assessment and share the support plan.",
    "Fit a door entry system and a letterbox guard.",
    "Draft a community protection warning for legal review.",
    "Arrange a safeguarding enquiry and report back to the panel.",
    "Carry out a home fire safety visit.",
    "Offer victim support and a named contact.",
)
_FILE_KINDS = (
    "Visit note",
    "Incident log",
    "Risk assessment",
    "Case summary",
    "Patrol log",
)
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Safari/605.1.15",
)
LOCATION = "Committee Room 2, Scaleford Civic Centre"
ONLINE_LINK = "https://meet.example.org/cmarac-scaleford"

# Why a coordinator moved a referral on, by the status it went to.
_OUTCOMES = {
    Status.INFORMATION_REQUESTED: (
        "Please send the police incident numbers, and say whether housing has "
        "offered a move.",
        "",
        "",
    ),
    Status.DECLINED: (
        "Single agencies have not yet tried mediation. Refer again if the risk grows.",
        "",
        "",
    ),
    Status.REDIRECTED: (
        "The person causing harm is a former partner: this is domestic abuse.",
        "Domestic abuse MARAC",
        "",
    ),
    Status.CLOSED: (
        "All actions are done and the risk is now standard.",
        "",
        "Thank you for the referral. The panel closed the case; refer again if "
        "the behaviour comes back.",
    ),
}

# The statuses of referrals by age: (days old up to, [(status, weight)]).
_STATUS_BY_AGE = (
    (14, [(Status.SUBMITTED, 35), (Status.SCREENING, 35),
          (Status.INFORMATION_REQUESTED, 15), (Status.ACCEPTED, 10),
          (Status.DECLINED, 5)]),
    (60, [(Status.SCREENING, 10), (Status.INFORMATION_REQUESTED, 10),
          (Status.ACCEPTED, 45), (Status.DECLINED, 10), (Status.REDIRECTED, 5),
          (Status.CLOSED, 20)]),
    (10**6, [(Status.ACCEPTED, 15), (Status.CLOSED, 60), (Status.DECLINED, 15),
             (Status.REDIRECTED, 10)]),
)  # fmt: skip

# The audit actions a year of use is made of: ((action, what was read), weight).
# A read names the kind of record it opened; other events need no subject.
_AUDIT_MIX = (
    ((AuditAction.READ, "referral"), 34),
    ((ReferralAction.LIST_VIEWED, None), 14),
    ((AuthAction.LOGIN, None), 10),
    ((AuthAction.LOGOUT, None), 6),
    ((DocumentAction.LIST_VIEWED, None), 8),
    ((AuditAction.READ, "share"), 5),
    ((DocumentAction.DOWNLOADED, None), 5),
    ((AuditAction.READ, "meeting"), 7),
    ((MeetingAction.ACTIONS_VIEWED, None), 4),
    ((AuthAction.SECOND_FACTOR, None), 5),
    ((AuthAction.LOGIN_FAILED, None), 2),
)


def _raw_answers() -> dict[str, dict[str, list[str]]]:
    """Form data for one complete referral, as a browser posts it: three
    people and two incidents. Cleaned once by the real forms."""

    def when(prefix: str, day: date) -> dict[str, list[str]]:
        return {
            f"{prefix}_0": [str(day.day)],
            f"{prefix}_1": [str(day.month)],
            f"{prefix}_2": [str(day.year)],
        }

    def person(index: int, role: str, name: str, born: date, **extra) -> dict:
        prefix = f"people-{index}-"
        data = {
            f"{prefix}role": [role],
            f"{prefix}full_name": [name],
            **when(f"{prefix}date_of_birth", born),
            f"{prefix}gender": ["Female" if index % 2 == 0 else "Male"],
            f"{prefix}address": ["Flat 3, 12 Sampleton Road"],
            f"{prefix}postcode": ["N1 1XA"],
            f"{prefix}tenure": ["council"],
            f"{prefix}language": ["English"],
            f"{prefix}interpreter": ["no"],
        }
        data.update({f"{prefix}{key}": [value] for key, value in extra.items()})
        return data

    victim = person(
        0, PersonRole.VICTIM, "Alex Sampleton", date(1961, 3, 14),
        landlord="Homes for the Borough", phone="07700 900 101",
        contact_times="Weekday mornings", leave_message="no",
        gp="Sampleton Road Surgery", fears="The neighbours at number 14",
        safe_contacts="Her daughter",
    )  # fmt: skip
    causing_harm = person(
        1, PersonRole.CAUSING_HARM, "Sam Exampleford", date(1990, 11, 2)
    )
    other = person(
        2, PersonRole.AT_RISK, "Jo Testwick", date(1958, 6, 30),
        fears="The visitors to number 14",
    )  # fmt: skip
    return {
        "eligibility": {
            "vulnerable": ["victim"],
            "escalating": ["yes"],
            "multi_agency_reason": [
                "Housing warnings and police visits have not stopped it; each "
                "agency holds part of the picture."
            ],
            "other_panel": ["none"],
            "urgent": ["no"],
        },
        "referrer": {
            "name": ["Pat Scale"],
            "job_title": ["Caseworker"],
            "email": ["pat.scale@example.org"],
            "phone": ["020 7946 0001"],
            "line_manager_aware": ["yes"],
            "presenter": ["Pat Scale, Caseworker"],
        },
        "referral-type": {"kind": ["new"], "police_reference": ["CAD 1234"]},
        "people": {
            "people-TOTAL_FORMS": ["3"],
            "people-INITIAL_FORMS": ["0"],
            **victim,
            **causing_harm,
            **other,
        },
        "household": {
            "members-TOTAL_FORMS": ["1"],
            "members-0-name": ["Chris Sampleton"],
            "members-0-relationship": ["Son"],
            "members-0-age": ["24"],
            "children-TOTAL_FORMS": ["1"],
            "children-0-name": ["Mia Sampleton"],
            **when("children-0-date_of_birth", date(2016, 9, 12)),
            "children-0-school": ["Exampleton Primary"],
            "children-0-relationship": ["Granddaughter"],
        },
        "risk": {
            "asb_types": ["noise", "criminal_damage"],
            "escalation": ["From noise at night to damage to her door."],
            "impact": ["She no longer leaves the flat after dark."],
            "personal_vulnerabilities": ["Lives alone; limited mobility."],
            "mental_health": ["Anxiety, treated by her GP."],
            "enforcement": ["Warning letter in August."],
            "risk_level": ["high"],
            "incidents-TOTAL_FORMS": ["2"],
            **when("incidents-0-date", date(2025, 3, 1)),
            "incidents-0-description": [_INCIDENTS[0]],
            "incidents-0-reference": ["CAD 1234"],
            **when("incidents-1-date", date(2025, 3, 8)),
            "incidents-1-description": [_INCIDENTS[1]],
        },
        "actions": {
            "agencies": ["police", "housing"],
            "actions": ["Warning letter in August; police visits; no change."],
            "victim_wants": ["To feel safe at home."],
        },
        "consent": {
            "person_aware": ["yes"],
            "consent": ["obtained"],
            "article_6": ["public_task"],
            "special_conditions": ["art9_substantial_public_interest"],
            "section_115": ["on"],
        },
    }


def cleaned_template() -> dict:
    """The answers a referral stores, cleaned by the real section forms."""
    raw = _raw_answers()
    answers = {}
    for section in SECTIONS:
        bound = bind(section, raw[section.slug])
        if not bound.is_valid():  # the form changed: the template must follow
            raise ValueError(f"Scale answers for {section.slug}: {bound.errors()}")
        answers[section.slug] = bound.cleaned()
    return answers


def _chunks(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk(model, rows: list) -> list:
    """Insert in batches; the rows come back with their ids."""
    for chunk in _chunks(rows):
        model.objects.bulk_create(chunk, batch_size=BATCH_SIZE)
    return rows


@dataclass
class _Case:
    """What later stages need to know about a referral, without the row."""

    pk: int
    organisation_id: int
    status: str
    submitted_at: datetime
    risk_level: str


class ScaleLoader:
    """Loads the stages in order, in one transaction; see the module docstring."""

    def __init__(
        self, *, scale: float = 1.0, sizes: Sizes | None = None,
        password: str = BENCH_PASSWORD, seed: int = 2026, report=None,
    ):  # fmt: skip
        if sizes is None and scale <= 0:
            raise ValueError("The scale must be more than 0")
        self.sizes = sizes or sizes_for(scale)
        if self.sizes.referrers < self.sizes.organisations:
            raise ValueError("Every organisation needs a referrer: add users")
        self.password = password
        # Synthetic data: a seeded generator so a load can be repeated exactly.
        self.rng = random.Random(seed)  # noqa: S311
        self.report = report or (lambda line: None)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.written: list[str] = []
        self.file_storage = SharedFile._meta.get_field("file").storage

    # The run ------------------------------------------------------------------

    def run(self) -> None:
        stages = (
            ("organisations", self.load_organisations),
            ("users", self.load_users),
            ("referrals", self.load_referrals),
            ("meetings", self.load_meetings),
            ("shared files", self.load_shares),
            # After the bulk stages (which write no audit events), before the
            # services that do: the log keeps reading in time order.
            ("audit events", self.load_audit_events),
            ("agreements", self.load_agreements),
            ("guidance", self.load_guidance),
        )
        started = time.perf_counter()
        try:
            with transaction.atomic():
                if scale_data_exists():
                    raise ScaleDataExists(
                        "Scale data is already loaded: organisations "
                        f"{SLUG_PREFIX}001 onwards (or users {USERNAME_PREFIX}0001 "
                        "onwards) exist. Load it into a fresh database."
                    )
                for name, stage in stages:
                    begun = time.perf_counter()
                    summary = stage()
                    self.timings[name] = time.perf_counter() - begun
                    self.report(f"{name:<14} {self.timings[name]:7.1f} s  {summary}")
        except BaseException:
            self._written_delete()
            raise
        if connection.vendor == "postgresql":
            # What autovacuum would do after a bulk load, so the planner works
            # from real row counts (without it, a 25-row prefetch scanned
            # all 60,000 people).
            begun = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.timings["analyze"] = time.perf_counter() - begun
            self.report(f"{'statistics':<14} {self.timings['analyze']:7.1f} s  ANALYZE")
        self.timings["total"] = time.perf_counter() - started

    def _written_delete(self) -> None:
        for name in self.written:
            with suppress(OSError):
                self.file_storage.delete(name)

    def _pick(self, weighted):
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]

    # Organisations and people ---------------------------------------------------

    def load_organisations(self) -> str:
        types = list(OrganisationType)
        self.organisations = _bulk(
            Organisation,
            [
                Organisation(
                    name=f"Scale {types[i % len(types)].label} {i + 1:03d}",
                    slug=f"{SLUG_PREFIX}{i + 1:03d}",
                    type=types[i % len(types)].value,
                )
                for i in range(self.sizes.organisations)
            ],
        )
        self.org_by_id = {org.pk: org for org in self.organisations}
        self.counts["organisations"] = len(self.organisations)
        return f"{len(self.organisations):,} organisations"

    def load_users(self) -> str:
        sizes = self.sizes
        first = self.organisations[0]
        plan = (
            [(first, Role.COORDINATOR, "CMARAC coordinator")] * sizes.coordinators
            + [(first, Role.EDITOR, "Partnership officer")] * sizes.editors
            + [(org, Role.SIGNATORY, "Head of service") for org in self.organisations]
            + [
                (self.organisations[i % sizes.organisations], Role.REFERRER,
                 "Caseworker")
                for i in range(sizes.referrers)
            ]
        )  # fmt: skip
        # One slow hash for everyone: hashing 2,000 times would take minutes.
        hashed = make_password(self.password)
        users = []
        for index, (organisation, _role, job_title) in enumerate(plan):
            username = f"{USERNAME_PREFIX}{index + 1:04d}"
            users.append(
                User(
                    username=username,
                    first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=SURNAMES[(index * 7) % len(SURNAMES)],
                    email=f"{username}@example.org",
                    organisation=organisation,
                    job_title=job_title,
                    password=hashed,
                    date_joined=self.now - timedelta(days=600),
                )
            )
        _bulk(User, users)
        groups = {role: role_group(role) for role in Role}
        _bulk(
            User.groups.through,
            [
                User.groups.through(user_id=user.pk, group_id=groups[role].pk)
                for user, (_org, role, _title) in zip(users, plan, strict=True)
            ],
        )
        _bulk(
            TOTPDevice,
            [
                TOTPDevice(
                    user=user,
                    name="Authenticator app",
                    confirmed=True,
                    key=_derived_key(user.username),
                )
                for user in users
            ],
        )
        self.users = users
        by_role = defaultdict(list)
        for user, (_org, role, _title) in zip(users, plan, strict=True):
            by_role[role].append(user)
        self.coordinators = by_role[Role.COORDINATOR]
        self.editors = by_role[Role.EDITOR]
        self.signatories = by_role[Role.SIGNATORY]
        self.referrers = by_role[Role.REFERRER]
        self.referrers_by_org = defaultdict(list)
        for user in self.referrers:
            self.referrers_by_org[user.organisation_id].append(user)
        for organisation, signatory in zip(
            self.organisations, self.signatories, strict=True
        ):
            organisation.single_point_of_contact = signatory
        Organisation.objects.bulk_update(
            self.organisations, ["single_point_of_contact"], batch_size=BATCH_SIZE
        )
        self.counts["users"] = len(users)
        return (
            f"{len(users):,} users ({len(self.referrers):,} referrers, "
            f"{len(self.signatories)} signatories, {len(self.coordinators)} "
            f"coordinators, {len(self.editors)} editors), each with a confirmed "
            "authenticator"
        )

    # Referrals ------------------------------------------------------------------

    def _identities(self, count: int) -> list[tuple[str, date | None, int | None]]:
        """People to refer: fewer than the places in referrals, so some people
        are referred more than once (the repeat-referral warning)."""
        rng = self.rng
        people = []
        for _ in range(max(1, count)):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            if rng.random() < 0.1:
                people.append((name, None, rng.randint(16, 90)))
            else:
                born = date(1935, 1, 1) + timedelta(days=rng.randint(0, 365 * 73))
                people.append((name, born, None))
        return people

    def load_referrals(self) -> str:
        sizes, rng, now = self.sizes, self.rng, self.now
        template = cleaned_template()
        victim_t, harm_t, other_t = template["people"]["people"]
        incident_t = template["risk"]["incidents"][0]
        identities = self._identities(
            int(sizes.referrals * sizes.people_per_referral * 0.85)
        )
        keys: dict[str, str] = {}
        asb_choices = [value for value, _ in ASB_TYPES if value != "other"]
        coordinator_labels = [
            (c, c.get_full_name(), str(self.org_by_id[c.organisation_id]))
            for c in self.coordinators
        ]
        referrer_sections: dict[int, dict] = {}

        def referrer_section(user) -> dict:
            if user.pk not in referrer_sections:
                name = user.get_full_name()
                referrer_sections[user.pk] = {
                    "fields": {
                        **template["referrer"]["fields"],
                        "name": name,
                        "job_title": user.job_title,
                        "email": user.email,
                        "presenter": f"{name}, {user.job_title}",
                    }
                }
            return referrer_sections[user.pk]

        # Oldest first, so numbers rise with the dates within each year.
        moments = sorted(
            now - timedelta(days=rng.uniform(0.05, 540)) for _ in range(sizes.referrals)
        )
        years = [timezone.localtime(moment).year for moment in moments]
        next_number = {}
        for year in sorted(set(years)):
            counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
                year=year
            )
            next_number[year] = counter.last_number
        referrals, people, events, self.cases = [], [], [], []
        for submitted_at, year in zip(moments, years, strict=True):
            next_number[year] += 1
            number = next_number[year]
            referrer = rng.choice(self.referrers)
            age = (now - submitted_at).days
            status = self._pick(next(w for limit, w in _STATUS_BY_AGE if age < limit))
            changed_at = submitted_at
            if status != Status.SUBMITTED:
                changed_at = min(
                    now, submitted_at + timedelta(days=rng.uniform(1, min(30, age + 1)))
                )
            urgent = rng.random() < 0.08
            risk_level = self._pick(
                [(RiskLevel.STANDARD, 3), (RiskLevel.MEDIUM, 4), (RiskLevel.HIGH, 3)]
            )
            asb_types = rng.sample(asb_choices, rng.randint(1, 3))
            do_not_disclose = rng.random() < 0.1
            anonymous_source = rng.random() < 0.05
            chosen = [rng.choice(identities) for _ in range(sizes.people_per_referral)]
            roles = [
                PersonRole.VICTIM,
                PersonRole.CAUSING_HARM,
                PersonRole.WITNESS if anonymous_source else PersonRole.AT_RISK,
            ]
            bases = [victim_t, harm_t, other_t]
            answers_people = []
            for position, (name, born, age_years) in enumerate(chosen):
                answers_people.append(
                    {
                        **bases[position % len(bases)],
                        "role": roles[position % len(roles)].value,
                        "full_name": name,
                        "date_of_birth": born.isoformat() if born else None,
                        "age": age_years,
                    }
                )
            day = timezone.localtime(submitted_at).date()
            incidents = [
                {
                    **incident_t,
                    "date": (day - timedelta(days=rng.randint(1, 60))).isoformat(),
                    "description": rng.choice(_INCIDENTS),
                    "reference": f"CAD {rng.randint(1000, 9999)}",
                }
                for _ in range(sizes.incidents_per_referral)
            ]
            incidents.sort(key=lambda item: item["date"])
            answers = {
                **template,
                "eligibility": {
                    "fields": {
                        **template["eligibility"]["fields"],
                        "urgent": "yes" if urgent else "no",
                        "urgency_reason": ("Threats made this week." if urgent else ""),
                    }
                },
                "referrer": referrer_section(referrer),
                "people": {"fields": {}, "people": answers_people},
                "risk": {
                    "fields": {
                        **template["risk"]["fields"],
                        "asb_types": asb_types,
                        "risk_level": risk_level.value,
                    },
                    "incidents": incidents,
                },
                "consent": {
                    "fields": {
                        **template["consent"]["fields"],
                        "do_not_disclose": do_not_disclose,
                        "anonymous_source": anonymous_source,
                    }
                },
            }
            reason, redirected_to, feedback = _OUTCOMES.get(status, ("", "", ""))
            referral = Referral(
                reference=f"CM-{year}-{number:04d}",
                year=year,
                number=number,
                organisation_id=referrer.organisation_id,
                referrer=referrer,
                status=status.value,
                urgent=urgent,
                risk_level=risk_level.value,
                asb_types=asb_types,
                do_not_disclose=do_not_disclose,
                anonymous_source=anonymous_source,
                answers=answers,
                submitted_at=submitted_at,
                status_changed_at=changed_at,
                redirected_to=redirected_to,
                outcome_reason=reason
                if status in (Status.REDIRECTED, Status.DECLINED, Status.CLOSED)
                else "",
                feedback=feedback,
            )
            referrals.append(referral)
            for position, (name, born, age_years) in enumerate(chosen, start=1):
                if name not in keys:
                    keys[name] = name_key(name)
                people.append(
                    ReferralPerson(
                        referral=referral,
                        position=position,
                        role=roles[(position - 1) % len(roles)].value,
                        full_name=name,
                        name_key=keys[name],
                        date_of_birth=born,
                        age=age_years,
                    )
                )
            events.append(
                ReferralEvent(
                    referral=referral,
                    kind=EventKind.SUBMITTED,
                    from_status="",
                    to_status=Status.SUBMITTED,
                    actor=referrer,
                    actor_label=referrer.get_full_name(),
                    organisation_label=self.org_by_id[referrer.organisation_id].name,
                    at=submitted_at,
                )
            )
            if status != Status.SUBMITTED:
                coordinator, label, org_label = rng.choice(coordinator_labels)
                screened_at = submitted_at + (changed_at - submitted_at) / 4
                steps = [(Status.SUBMITTED, Status.SCREENING, screened_at)]
                if status != Status.SCREENING:
                    steps.append((Status.SCREENING, status, changed_at))
                for from_status, to_status, at in steps:
                    events.append(
                        ReferralEvent(
                            referral=referral,
                            kind=EventKind.INFORMATION_REQUESTED
                            if to_status == Status.INFORMATION_REQUESTED
                            else EventKind.TRANSITION,
                            from_status=from_status,
                            to_status=to_status,
                            actor=coordinator,
                            actor_label=label,
                            organisation_label=org_label,
                            at=at,
                            message=_OUTCOMES.get(to_status, ("",))[0],
                        )
                    )
        _bulk(Referral, referrals)
        for person in people:
            person.referral_id = person.referral.pk
        for event in events:
            event.referral_id = event.referral.pk
        _bulk(ReferralPerson, people)
        _bulk(ReferralEvent, events)
        # The repeat flag the submission sets, for all of them in one
        # set-based UPDATE (referrals.repeats).
        loaded = Referral.objects.filter(organisation__slug__startswith=SLUG_PREFIX)
        repeat_flags_set(referrals=loaded)
        repeats = loaded.filter(is_repeat=True).count()
        for year, last in next_number.items():
            ReferenceCounter.objects.filter(year=year).update(last_number=last)
        drafts = self._drafts()
        self.cases = [
            _Case(r.pk, r.organisation_id, r.status, r.submitted_at, r.risk_level)
            for r in referrals
        ]
        incidents = len(referrals) * sizes.incidents_per_referral
        self.counts.update(
            referrals=len(referrals),
            referral_people=len(people),
            incidents=incidents,
            referral_events=len(events),
            drafts=drafts,
            repeat_referrals=repeats,
        )
        return (
            f"{len(referrals):,} referrals ({repeats:,} repeats), "
            f"{len(people):,} people, "
            f"{incidents:,} incidents, {len(events):,} history events, "
            f"{drafts:,} unfinished drafts; reference counters "
            + ", ".join(f"{year}: {last}" for year, last in sorted(next_number.items()))
        )

    def _drafts(self) -> int:
        """Unfinished drafts (one in a hundred referrals), eligibility done."""
        raw = _raw_answers()["eligibility"]
        drafts = []
        for _ in range(max(1, self.sizes.referrals // 100)):
            owner = self.rng.choice(self.referrers)
            started = self.now - timedelta(days=self.rng.uniform(0, 60))
            drafts.append(
                ReferralDraft(
                    owner=owner,
                    organisation_id=owner.organisation_id,
                    answers={"eligibility": raw},
                    states={"eligibility": SectionState.COMPLETED.value},
                    revisions={"eligibility": 1},
                    created_at=started,
                    updated_at=started,
                )
            )
        _bulk(ReferralDraft, drafts)
        return len(drafts)

    # Meetings -------------------------------------------------------------------

    def _meeting_days(self) -> list[tuple[date, bool]]:
        """(day, upcoming) for every meeting: the past ones spread over the
        last 16 months, the upcoming ones over the next two."""
        past = self.sizes.meetings - self.sizes.upcoming_meetings
        days = []
        span = 480
        for index in range(past):
            back = span - index * (span - 3) / max(1, past - 1) if past > 1 else 10
            days.append(
                (
                    working_day_on_or_after(self.today - timedelta(days=round(back))),
                    False,
                )
            )
        for index in range(self.sizes.upcoming_meetings):
            ahead = 7 + index * 53 / max(1, self.sizes.upcoming_meetings)
            days.append(
                (
                    working_day_on_or_after(self.today + timedelta(days=round(ahead))),
                    True,
                )
            )
        return days

    def load_meetings(self) -> str:
        rng, sizes = self.rng, self.sizes
        discussable = sorted(
            (c for c in self.cases if c.status in (Status.ACCEPTED, Status.CLOSED)),
            key=lambda c: c.submitted_at,
        )
        discussable_times = [c.submitted_at for c in discussable]
        accepted = [c for c in discussable if c.status == Status.ACCEPTED]
        days = self._meeting_days()
        past_count = sum(1 for _, upcoming in days if not upcoming)
        meetings = []
        for index, (day, upcoming) in enumerate(days):
            starts = timezone.make_aware(datetime.combine(day, clock(hour=10)))
            meeting = Meeting(
                kind=MeetingKind.URGENT if rng.random() < 0.05 else MeetingKind.FULL,
                starts_at=starts,
                location=LOCATION,
                online_link=ONLINE_LINK,
                chair=rng.choice(self.coordinators),
                referral_deadline=day - timedelta(days=14),
                created_at=min(self.now, starts - timedelta(days=30)),
            )
            if upcoming:
                # The furthest meeting is still being planned.
                last = index == len(days) - 1 and sizes.upcoming_meetings >= 3
                meeting.status = MeetingStatus.PLANNED if last else (
                    MeetingStatus.PAPERS_ISSUED
                )  # fmt: skip
                if not last:
                    meeting.papers_issued_at = self.now - timedelta(hours=20)
            else:
                meeting.papers_issued_at = starts - timedelta(days=5)
                # The latest few are held with their minutes still to come.
                if index >= past_count - max(1, past_count // 50):
                    meeting.status = MeetingStatus.HELD
                else:
                    meeting.status = MeetingStatus.MINUTES_ISSUED
                    meeting.minutes_issued_at = starts + timedelta(days=2)
                    meeting.general_minutes = (
                        "Apologies were noted. Everyone present confirmed the "
                        "confidentiality statement. Matters arising: none."
                    )
            meetings.append(meeting)
        _bulk(Meeting, meetings)

        items, invitations = [], []
        for meeting, (day, upcoming) in zip(meetings, days, strict=True):
            if upcoming:
                pool = accepted[-sizes.cases_per_meeting * 25 :]
            else:
                end = bisect_left(
                    discussable_times, meeting.starts_at - timedelta(days=3)
                )
                pool = discussable[max(0, end - sizes.cases_per_meeting * 10) : end]
            cases = rng.sample(pool, min(len(pool), sizes.cases_per_meeting))
            for position, case in enumerate(cases, start=1):
                item = AgendaItem(
                    meeting=meeting,
                    referral_id=case.pk,
                    position=position,
                    slot_minutes=rng.choice((15, 15, 20, 30)),
                )
                if not upcoming:
                    risk_after = self._pick(
                        [(RiskLevel.STANDARD, 2), (RiskLevel.MEDIUM, 4),
                         (RiskLevel.HIGH, 3)]
                    )  # fmt: skip
                    item.risk_after = risk_after
                    item.discussion = (
                        "Each agency reported what it knows. The behaviour "
                        "continues, and the victim's health is getting worse."
                    )
                    item.decisions = "Actions agreed below. Review at a later meeting."
                    item.next_review = day + timedelta(days=REVIEW_DAYS[risk_after])
                others = [
                    org.pk
                    for org in rng.sample(
                        self.organisations,
                        min(len(self.organisations), rng.randint(3, 5)),
                    )
                    if org.pk != case.organisation_id
                ][: rng.randint(2, 4)]
                items.append(item)
                invitations.append((item, [case.organisation_id, *others], case))
        _bulk(AgendaItem, items)

        through = AgendaItem.invited.through
        rows, shares, attendance = [], {}, {}
        self.meeting_invited: dict[int, set[int]] = defaultdict(set)
        for item, organisation_ids, case in invitations:
            for organisation_id in organisation_ids:
                rows.append(
                    through(agendaitem_id=item.pk, organisation_id=organisation_id)
                )
                self.meeting_invited[item.meeting_id].add(organisation_id)
                if organisation_id != case.organisation_id:
                    shares.setdefault(
                        (case.pk, organisation_id),
                        item.meeting.starts_at - timedelta(days=7),
                    )
        _bulk(through, rows)
        _bulk(
            ReferralShare,
            [
                ReferralShare(
                    referral_id=referral_id,
                    organisation_id=organisation_id,
                    reason=ShareReason.INFORMATION,
                    via_meeting=True,
                    created_at=min(self.now, at),
                    ends_at=self.now + timedelta(days=settings.REFERRAL_SHARE_DAYS),
                )
                for (referral_id, organisation_id), at in shares.items()
            ],
        )
        self.referral_shared_with: dict[int, set[int]] = defaultdict(set)
        for referral_id, organisation_id in shares:
            self.referral_shared_with[referral_id].add(organisation_id)

        held = [
            m
            for m in meetings
            if m.status in (MeetingStatus.HELD, MeetingStatus.MINUTES_ISSUED)
        ]
        for meeting in held:
            for organisation_id in sorted(self.meeting_invited[meeting.pk]):
                person = rng.choice(self.referrers_by_org[organisation_id])
                status = self._pick(
                    [(AttendanceStatus.PRESENT, 17), (AttendanceStatus.APOLOGIES, 2),
                     (AttendanceStatus.ABSENT, 1)]
                )  # fmt: skip
                attendance[(meeting.pk, organisation_id)] = Attendance(
                    meeting=meeting,
                    organisation_id=organisation_id,
                    name=person.get_full_name(),
                    user=person,
                    status=status,
                    confidentiality_confirmed_at=meeting.starts_at
                    if status == AttendanceStatus.PRESENT
                    else None,
                )
        _bulk(Attendance, list(attendance.values()))

        actions = []
        for item, organisation_ids, _case in invitations:
            if item.next_review is None:
                continue
            day = timezone.localtime(item.meeting.starts_at).date()
            for _ in range(sizes.actions_per_case):
                owner_id = rng.choice(organisation_ids)
                officer = rng.choice(self.referrers_by_org[owner_id])
                due = day + timedelta(days=rng.randint(7, 42))
                if due < self.today - timedelta(days=14):
                    status = self._pick(
                        [(ActionStatus.DONE, 16), (ActionStatus.OPEN, 2),
                         (ActionStatus.NOT_DONE, 1), (ActionStatus.NOT_POSSIBLE, 1)]
                    )  # fmt: skip
                else:
                    status = self._pick(
                        [(ActionStatus.OPEN, 4), (ActionStatus.DONE, 1)]
                    )
                updated = min(self.now, item.meeting.starts_at + timedelta(days=3))
                actions.append(
                    Action(
                        agenda_item=item,
                        referral_id=item.referral_id,
                        owner_id=owner_id,
                        officer=officer.get_full_name(),
                        description=rng.choice(_ACTIONS),
                        due=due,
                        status=status,
                        update="Started; the household has been visited."
                        if status != ActionStatus.OPEN or rng.random() < 0.3
                        else "",
                        updated_at=updated,
                        updated_by=officer,
                    )
                )
        _bulk(Action, actions)
        self.meetings = meetings
        self.counts.update(
            meetings=len(meetings),
            agenda_items=len(items),
            invitations=len(rows),
            referral_shares=len(shares),
            attendance=len(attendance),
            actions=len(actions),
        )
        upcoming = sum(1 for _, is_upcoming in days if is_upcoming)
        return (
            f"{len(meetings):,} meetings ({upcoming} upcoming), {len(items):,} "
            f"agenda items, {len(rows):,} invitations, {len(shares):,} referral "
            f"shares, {len(attendance):,} attendance rows, {len(actions):,} actions"
        )

    # Shared files ----------------------------------------------------------------

    def _recipients(self, sender) -> tuple[str, dict, set[int]]:
        """(target, link fields, recipient organisation ids) as share_create
        would fix them."""
        rng = self.rng
        own = sender.organisation_id
        roll = rng.random()
        if roll < 0.15:
            ours = self.cases_by_org.get(own)
            if ours:
                case = rng.choice(ours)
                recipients = {case.organisation_id} | self.referral_shared_with.get(
                    case.pk, set()
                )
                recipients.discard(own)
                if recipients:
                    return ShareTarget.REFERRAL, {"referral_id": case.pk}, recipients
        elif roll < 0.25:
            meetings = self.meetings_by_org.get(own)
            if meetings:
                meeting_id = rng.choice(meetings)
                recipients = set(self.meeting_invited[meeting_id]) - {own}
                if recipients:
                    return ShareTarget.MEETING, {"meeting_id": meeting_id}, recipients
        others = [org.pk for org in self.organisations if org.pk != own]
        return (
            ShareTarget.ORGANISATIONS,
            {},
            set(rng.sample(others, min(len(others), rng.randint(1, 3)))),
        )

    def load_shares(self) -> str:
        rng, sizes = self.rng, self.sizes
        self.cases_by_org = defaultdict(list)
        for case in self.cases:
            self.cases_by_org[case.organisation_id].append(case)
        visible = {
            MeetingStatus.PAPERS_ISSUED,
            MeetingStatus.HELD,
            MeetingStatus.MINUTES_ISSUED,
        }
        self.meetings_by_org = defaultdict(list)
        for meeting in self.meetings:
            if meeting.status in visible:
                for organisation_id in self.meeting_invited[meeting.pk]:
                    self.meetings_by_org[organisation_id].append(meeting.pk)

        shares, recipients = [], []
        for _ in range(sizes.shares):
            sender = rng.choice(self.referrers)
            created = self.now - timedelta(days=rng.uniform(0.01, 90))
            target, link, organisation_ids = self._recipients(sender)
            share = Share(
                target=target,
                sender_organisation_id=sender.organisation_id,
                sent_by=sender,
                note=rng.choice(("", "For the case review.", "As discussed.")),
                created_at=created,
                expires_at=created + timedelta(days=rng.choice((7, 30, 30, 30, 90))),
                **link,
            )
            if rng.random() < 0.03:
                share.recalled_at = min(self.now, created + timedelta(hours=2))
                share.recalled_by = sender
                share.recall_reason = "Sent to the wrong agency"
            shares.append(share)
            recipients.append(sorted(organisation_ids))
        _bulk(Share, shares)
        _bulk(
            ShareRecipient,
            [
                ShareRecipient(share=share, organisation_id=organisation_id)
                for share, organisation_ids in zip(shares, recipients, strict=True)
                for organisation_id in organisation_ids
            ],
        )

        files, contents = [], []
        for number, share in enumerate(shares, start=1):
            for index in range(sizes.files_per_share):
                kind = _FILE_KINDS[(number + index) % len(_FILE_KINDS)]
                content = (
                    f"{kind}, share {number}, file {index + 1}. Invented for the "
                    "portal's scale benchmarks (manage.py load_scale_data): no "
                    "real people or places.\n"
                ).ljust(FILE_BYTES - 1, ".").encode() + b"\n"
                contents.append(content)
                files.append(
                    SharedFile(
                        share=share,
                        display_name=f"{kind} {number:05d}-{index + 1}.txt",
                        file=generated_name("shared"),
                        content_type="text/plain",
                        size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        scan_status=ScanStatus.NOT_SCANNED,
                    )
                )
        self._files_write(files, contents)
        _bulk(SharedFile, files)

        downloads = []
        by_share = defaultdict(list)
        for item in files:
            by_share[item.share_id].append(item)
        for share, organisation_ids in zip(shares, recipients, strict=True):
            if share.recalled_at is not None:
                continue
            for organisation_id in organisation_ids:
                if rng.random() < 0.5:
                    continue
                person = rng.choice(self.referrers_by_org[organisation_id])
                for item in by_share[share.pk]:
                    if rng.random() < 0.6:
                        at = share.created_at + timedelta(hours=rng.uniform(0.1, 48))
                        downloads.append(
                            FileDownload(
                                file=item,
                                user=person,
                                organisation_id=organisation_id,
                                at=min(self.now, at),
                                ip_address=_ip(person.pk),
                            )
                        )
        _bulk(FileDownload, downloads)
        self.shares, self.files = shares, files
        self.counts.update(
            shares=len(shares),
            share_recipients=sum(len(r) for r in recipients),
            shared_files=len(files),
            file_downloads=len(downloads),
        )
        return (
            f"{len(shares):,} shares to {sum(len(r) for r in recipients):,} "
            f"recipients, {len(files):,} files of {FILE_BYTES} bytes written, "
            f"{len(downloads):,} downloads"
        )

    def _files_write(self, files: list, contents: list[bytes]) -> None:
        storage = self.file_storage
        if isinstance(storage, FileSystemStorage):
            # Plain writes: the names are fresh uuids, so the storage's checks
            # for a free name and its temporary files are not needed.
            folders = {os.path.dirname(storage.path(item.file.name)) for item in files}
            for folder in folders:
                os.makedirs(folder, exist_ok=True)
            mode = storage.file_permissions_mode
            for item, content in zip(files, contents, strict=True):
                path = storage.path(item.file.name)
                with open(path, "xb") as handle:
                    handle.write(content)
                if mode is not None:
                    os.chmod(path, mode)
                self.written.append(item.file.name)
            return

        # Remote storage (S3): requests wait on the network, so run many at once.
        def save(pair):
            item, content = pair
            return storage.save(item.file.name, ContentFile(content))

        with ThreadPoolExecutor(max_workers=16) as pool:
            for item, name in zip(
                files, pool.map(save, zip(files, contents, strict=True)), strict=True
            ):
                item.file.name = name
                self.written.append(name)

    # The audit log ----------------------------------------------------------------

    def load_audit_events(self) -> str:
        """A year of use, chained onto the newest event exactly as
        ``audit_record`` would have chained each one."""
        rng, total = self.rng, self.sizes.audit_events
        # The lock audit_record appends under, held until the load commits:
        # no other writer can hash onto the event this chain starts from.
        audit_chain_lock()
        last = (
            AuditEvent.objects.order_by("-id").values_list("id", "hash", "at").first()
        )
        last_id, previous, last_at = last or (0, GENESIS_HASH, None)
        end = self.now
        start = end - timedelta(days=365)
        if last_at is not None and last_at > start:
            # Never before the newest event: the log reads in time order.
            start = last_at
            self.report(
                f"  the audit log already has events up to {long_datetime(last_at)}; "
                "the new ones fall between then and now"
            )
        span = (end - start).total_seconds()
        offsets = sorted(rng.random() for _ in range(total))

        actions, weights = zip(*_AUDIT_MIX, strict=True)
        people = [u for u in self.users if u.organisation_id is not None]
        labels = {org.pk: org.name for org in self.organisations}
        referral_ids = [case.pk for case in self.cases]
        meeting_ids = [m.pk for m in self.meetings]
        shares = self.shares
        files = self.files
        key_id = signing_key().id
        next_id = last_id + 1
        written = 0
        for offsets_chunk in _chunks(offsets):
            events = []
            for offset in offsets_chunk:
                actor = rng.choice(people)
                kind = rng.choices(actions, weights)[0]
                event = AuditEvent(
                    id=next_id,
                    at=start + timedelta(seconds=offset * span),
                    actor_id=actor.pk,
                    actor_label=actor.username,
                    organisation_id=actor.organisation_id,
                    organisation_label=labels[actor.organisation_id],
                    ip_address=_ip(actor.pk),
                    user_agent=_USER_AGENTS[actor.pk % len(_USER_AGENTS)],
                    key_id=key_id,
                    **self._audit_subject(kind, actor, referral_ids, meeting_ids,
                                          shares, files),
                )  # fmt: skip
                event.previous_hash = previous
                event.hash = previous = event.compute_hash()
                events.append(event)
                next_id += 1
            AuditEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
            written += len(events)
        # Ids were given explicitly (the chain follows id order): move the
        # sequence past them so the next audit_record gets the next id.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
                cursor.execute(sql)
        self.counts["audit_events"] = written
        return f"{written:,} audit events, chained from event {last_id}"

    def _audit_subject(self, kind, actor, referral_ids, meeting_ids, shares, files):
        rng = self.rng
        action, read = kind
        if read == "referral" and referral_ids:
            return {
                "action": action,
                "object_type": "referrals.referral",
                "object_id": str(rng.choice(referral_ids)),
            }
        if read == "meeting" and meeting_ids:
            return {
                "action": action,
                "object_type": "meetings.meeting",
                "object_id": str(rng.choice(meeting_ids)),
            }
        if read == "share" and shares:
            share = rng.choice(shares)
            return {
                "action": action,
                "object_type": "documents.share",
                "object_id": str(share.pk),
                "detail": {"files": self.sizes.files_per_share},
            }
        if action == DocumentAction.DOWNLOADED and files:
            item = rng.choice(files)
            return {
                "action": action,
                "object_type": "documents.sharedfile",
                "object_id": str(item.pk),
                "detail": {"share": str(item.share.public_id), "size": item.size},
            }
        if action == ReferralAction.LIST_VIEWED:
            return {"action": action, "detail": {"page": 1, "count": 25}}
        if action == DocumentAction.LIST_VIEWED:
            return {
                "action": action,
                "detail": {"show": "received", "page": 1, "count": 25},
            }
        if action == AuthAction.LOGIN_FAILED:
            return {
                "action": action,
                "object_type": "accounts.user",
                "object_id": str(actor.pk),
                "outcome": Outcome.FAILURE,
                "detail": {"reason": "wrong username or password"},
            }
        if action == AuthAction.SECOND_FACTOR:
            return {
                "action": action,
                "object_type": "accounts.user",
                "object_id": str(actor.pk),
                "detail": {"method": "totp"},
            }
        if action in (AuthAction.LOGIN, AuthAction.LOGOUT):
            return {
                "action": action,
                "object_type": "accounts.user",
                "object_id": str(actor.pk),
            }
        return {"action": MeetingAction.ACTIONS_VIEWED}

    # Agreements -------------------------------------------------------------------

    def load_agreements(self) -> str:
        """Published agreements, acknowledged by most scale organisations.

        Only parties to an ISA in force see case material (docs/features.md,
        "Agreements"). If agreements are published already (the demo's), they
        stay as they are and the scale agreements name only the organisations
        no agreement names yet."""
        if SharingAgreementPage.objects.filter(slug="scale-cmarac-isa").exists():
            self.counts["acknowledgements"] = 0
            return "scale agreements already published"
        named = set().union(*(v.signatory_ids for v in current_versions()))
        coordinator = self.coordinators[0]
        home = HomePage.objects.first()
        index = AgreementIndexPage.objects.first()
        if index is None:
            index = home.add_child(
                instance=AgreementIndexPage(
                    title="Agreements",
                    slug="agreements",
                    introduction=(
                        "The rules partners follow when they share information "
                        "through this portal."
                    ),
                )
            )
        organisations = list(
            Organisation.objects.filter(active=True).exclude(pk__in=named)
        )
        effective = date(self.today.year, 1, 6)
        if effective >= self.today:
            effective = date(self.today.year - 1, 1, 6)
        protocol = self._agreement_publish(
            index,
            ProtocolPage(
                title="Scale Partnership Information Sharing Protocol",
                slug="scale-protocol",
                reference="SCALE-ISP",
                summary="The rules every partner follows when sharing personal "
                "information for community safety.",
                clauses=PROTOCOL_CLAUSES,
            ),
            organisations,
            effective,
            coordinator,
        )
        isa = self._agreement_publish(
            protocol,
            SharingAgreementPage(
                title="Scale CMARAC Information Sharing Agreement",
                slug="scale-cmarac-isa",
                reference="SCALE-ISA-CMARAC",
                summary="What partners share about people discussed at the "
                "Community MARAC, why, and how they keep it safe.",
                clauses=ISA_CLAUSES,
            ),
            organisations,
            effective,
            coordinator,
        )
        # One organisation in ten has not acknowledged yet, so case material
        # is closed to it until it does.
        factory = RequestFactory()
        made = 0
        for page in (protocol, isa):
            version = page.latest_version
            for number, (organisation, signatory) in enumerate(
                zip(self.organisations, self.signatories, strict=True), start=1
            ):
                if number % 10 == 0:
                    continue
                request = factory.post("/", REMOTE_ADDR=_ip(signatory.pk))
                request.user = signatory
                acknowledgement_record(
                    request=request,
                    version=version,
                    organisation=organisation,
                    signatory_name=signatory.get_full_name(),
                    signatory_role=signatory.job_title,
                )
                made += 1
        self.counts["acknowledgements"] = made
        return (
            f"protocol and ISA published (version 1.0, {len(organisations)} "
            f"signatory organisations), {made} acknowledgements"
        )

    def _agreement_publish(self, parent, page, organisations, effective, user):
        page.responsible_officer = user
        page.date_of_request = effective.replace(day=2)
        page.effective_date = effective
        page.first_review_date = effective.replace(year=effective.year + 1)
        page.next_version = "1.0"
        page.change_type = ChangeType.MATERIAL
        parent.add_child(instance=page)
        page.signatory_organisations.set(organisations)
        # Publishing freezes the version (agreements.receivers), as editors do.
        page.save_revision(user=user).publish(user=user)
        return Page.objects.get(pk=page.pk).specific

    # Guidance ---------------------------------------------------------------------

    def load_guidance(self) -> str:
        index = GuidanceIndexPage.objects.first()
        if index is None:
            index = HomePage.objects.first().add_child(
                instance=GuidanceIndexPage(
                    title="Guidance",
                    slug="guidance",
                    introduction="<p>How the partnership works, for staff at "
                    "member agencies.</p>",
                    first_published_at=self.now,
                    last_published_at=self.now,
                )
            )
        isa = SharingAgreementPage.objects.live().first()
        rng = self.rng
        for number in range(1, self.sizes.guidance_pages + 1):
            owner = self.editors[number % len(self.editors)]
            reviewed = self.today - timedelta(days=rng.randint(0, 420))
            body = [
                ("text", f"<h2>Guidance note {number}</h2><p>What partner staff "
                         "do, in plain words, and who to ask.</p>"),
                ("warning", {"text": "If someone is in immediate danger, call 999 "
                                     "first."}),
                ("details", {"summary": "Cases that belong at another panel",
                             "content": "<p>Tell the coordinator if you are not "
                                        "sure.</p>"}),
            ]  # fmt: skip
            if isa is not None:
                body.append(
                    (
                        "agreement",
                        {
                            "agreement": isa,
                            "version": "1.0" if number % 4 else "",
                            "text": "",
                        },
                    )  # fmt: skip
                )
            index.add_child(
                instance=GuidancePage(
                    title=f"Scale guidance {number:03d}",
                    slug=f"{SLUG_PREFIX}guidance-{number:03d}",
                    summary="For caseworkers: what to do, and when.",
                    body=body,
                    owner=owner,
                    owner_person=owner,
                    last_reviewed=reviewed,
                    review_by=reviewed + timedelta(days=365),
                    first_published_at=self.now,
                    last_published_at=self.now,
                )
            )
        self.counts["guidance_pages"] = self.sizes.guidance_pages
        return f"{self.sizes.guidance_pages:,} guidance pages under {index.url_path}"


def _derived_key(username: str) -> str:
    """A TOTP secret derived from SECRET_KEY and the username (as the demo's),
    so a benchmark script can compute codes for any scale user."""
    digest = salted_hmac("load_scale_data.totp", username, algorithm="sha256")
    return digest.digest()[:20].hex()


def _ip(seed: int) -> str:
    """An address in 10.0.0.0/8, the same for a person every time."""
    return f"10.{(seed >> 16) % 256}.{(seed >> 8) % 256}.{seed % 256}"
