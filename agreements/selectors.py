"""Reads about agreements: current versions, who has acknowledged, coverage,
the access check for case material, and clause-by-clause differences."""

import difflib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from wagtail.models import Page

from accounts.models import Organisation, Role, User
from portal import freshness
from portal.dates import long_date

from .models import Acknowledgement, AgreementVersion, ChangeType, SharingAgreementPage


class AcknowledgementState(models.TextChoices):
    """Where an organisation stands with the current version of an agreement
    (not a referral's ``Status``)."""

    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    OUTSTANDING = "outstanding", "Outstanding"
    OVERDUE = "overdue", "Overdue"


@dataclass
class OrganisationStatus:
    organisation_id: int
    organisation_name: str
    state: AcknowledgementState
    due: date
    acknowledgement: Acknowledgement | None = None

    @property
    def label(self) -> str:
        if self.state == AcknowledgementState.ACKNOWLEDGED:
            ack = self.acknowledgement
            when = long_date(ack.acknowledged_at)
            return f"Acknowledged v{ack.version.number} on {when}"
        if self.state == AcknowledgementState.OVERDUE:
            return f"Overdue since {long_date(self.due)}"
        return f"Outstanding, due by {long_date(self.due)}"


def grace_period() -> timedelta:
    return timedelta(days=settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS)


def current_versions() -> list[AgreementVersion]:
    """The newest version of every live agreement page."""
    live_ids = (
        Page.objects.live()
        .filter(pk__in=AgreementVersion.objects.values("page_id"))
        .values_list("pk", flat=True)
    )
    newest: dict[int, AgreementVersion] = {}
    for version in AgreementVersion.objects.filter(page_id__in=list(live_ids)).order_by(
        "page_id", "-major", "-minor"
    ):
        newest.setdefault(version.page_id, version)
    return sorted(
        newest.values(),
        key=lambda v: (v.kind != "information sharing protocol", v.title),
    )


def requirement_version(version: AgreementVersion) -> AgreementVersion:
    """The version whose acknowledgement ``version`` needs: the newest material
    version at or before it (editorial changes need no new acknowledgement)."""
    candidates = AgreementVersion.objects.filter(
        page_id=version.page_id, change_type=ChangeType.MATERIAL
    ).order_by("-major", "-minor")
    for candidate in candidates:
        if (candidate.major, candidate.minor) <= (version.major, version.minor):
            return candidate
    return version


def _covered_numbers(version: AgreementVersion) -> tuple[tuple, tuple]:
    """The lowest and highest version numbers whose acknowledgement covers
    ``version``: from the version it needs up to itself."""
    required = requirement_version(version)
    return (required.major, required.minor), (version.major, version.minor)


def _covering_acknowledgements(version: AgreementVersion) -> dict[int, Acknowledgement]:
    """Organisation id -> its newest acknowledgement that covers ``version``."""
    lowest, highest = _covered_numbers(version)
    found: dict[int, Acknowledgement] = {}
    acks = (
        Acknowledgement.objects.filter(version__page_id=version.page_id)
        .select_related("version")
        .order_by("-version__major", "-version__minor")
    )
    for ack in acks:
        if lowest <= (ack.version.major, ack.version.minor) <= highest:
            found.setdefault(ack.organisation_id, ack)
    return found


def _covered_organisations(version: AgreementVersion) -> set[int]:
    """The organisations ``_covering_acknowledgements`` names, read as ids
    and numbers only (not every version's text, clauses and signatories)."""
    lowest, highest = _covered_numbers(version)
    acks = Acknowledgement.objects.filter(version__page_id=version.page_id).values_list(
        "organisation_id", "version__major", "version__minor"
    )
    return {
        organisation
        for organisation, major, minor in acks
        if lowest <= (major, minor) <= highest
    }


def organisation_covered(version: AgreementVersion, organisation_id: int):
    return _covering_acknowledgements(version).get(organisation_id)


def coverage(version: AgreementVersion, *, today: date | None = None):
    """Every signatory organisation's status for ``version``, and the percentage."""
    today = today or timezone.localdate()
    due = (
        timezone.localtime(requirement_version(version).published_at).date()
        + grace_period()
    )
    acks = _covering_acknowledgements(version)
    rows = []
    for entry in sorted(version.signatories, key=lambda s: s["name"]):
        ack = acks.get(entry["id"])
        if ack is not None:
            state = AcknowledgementState.ACKNOWLEDGED
        elif today > due:
            state = AcknowledgementState.OVERDUE
        else:
            state = AcknowledgementState.OUTSTANDING
        rows.append(OrganisationStatus(entry["id"], entry["name"], state, due, ack))
    done = sum(1 for row in rows if row.state == AcknowledgementState.ACKNOWLEDGED)
    percent = round(100 * done / len(rows)) if rows else 100
    return rows, percent


def coverage_visible_to(user) -> bool:
    """Coverage names who has and has not acknowledged: coordinators only."""
    return user.is_active and (user.is_superuser or user.has_role(Role.COORDINATOR))


def organisation_status(version, organisation) -> OrganisationStatus | None:
    if organisation is None or organisation.pk not in version.signatory_ids:
        return None
    rows, _ = coverage(version)
    return next(row for row in rows if row.organisation_id == organisation.pk)


@dataclass
class AgreementSummary:
    version: AgreementVersion
    url: str
    status: OrganisationStatus | None


def agreements_in_force_for(user) -> list[AgreementSummary]:
    organisation = getattr(user, "organisation", None)
    versions = current_versions()
    urls = {
        page.pk: page.url
        for page in Page.objects.filter(pk__in=[v.page_id for v in versions])
    }
    return [
        AgreementSummary(
            version,
            urls.get(version.page_id, ""),
            organisation_status(version, organisation),
        )
        for version in versions
    ]


def acknowledgements_awaiting(user) -> list[AgreementSummary]:
    """Current versions the user, as a signatory, still has to acknowledge."""
    if not user.has_role(Role.SIGNATORY) or user.organisation is None:
        return []
    return [
        summary
        for summary in agreements_in_force_for(user)
        if summary.status is not None
        and summary.status.state != AcknowledgementState.ACKNOWLEDGED
    ]


@dataclass
class ClauseChange:
    heading: str
    change: str  # added, removed, changed, unchanged
    diff_html: str = ""
    html: str = ""


def version_diff(
    old: AgreementVersion | None, new: AgreementVersion
) -> list[ClauseChange]:
    """Clause-by-clause changes, matching clauses by their stable ids."""
    if old is None:
        return [
            ClauseChange(c["heading"], "added", html=c["html"]) for c in new.clauses
        ]
    changes = _retention_change(old, new)
    old_by_id = {c["id"]: c for c in old.clauses}
    new_ids = {c["id"] for c in new.clauses}
    for clause in new.clauses:
        before = old_by_id.get(clause["id"])
        if before is None:
            changes.append(
                ClauseChange(clause["heading"], "added", html=clause["html"])
            )
        elif (before["heading"], before["text"]) == (clause["heading"], clause["text"]):
            changes.append(
                ClauseChange(clause["heading"], "unchanged", html=clause["html"])
            )
        else:
            heading = clause["heading"]
            if before["heading"] != heading:
                heading = f"{heading} (was: {before['heading']})"
            changes.append(
                ClauseChange(
                    heading,
                    "changed",
                    diff_html=word_diff(before["text"], clause["text"]),
                )
            )
    for clause in old.clauses:
        if clause["id"] not in new_ids:
            changes.append(
                ClauseChange(clause["heading"], "removed", html=clause["html"])
            )
    return changes


def _retention_change(old: AgreementVersion, new: AgreementVersion) -> list:
    """The frozen retention periods, compared like a clause."""
    before, after = "\n".join(old.retention_lines), "\n".join(new.retention_lines)
    if before == after:
        return []
    if not before:
        return [ClauseChange(RETENTION_HEADING, "added", html=_lines_html(after))]
    return [
        ClauseChange(RETENTION_HEADING, "changed", diff_html=word_diff(before, after))
    ]


RETENTION_HEADING = "Retention periods"


def _lines_html(text: str) -> str:
    return mark_safe("<br>".join(escape(line) for line in text.split("\n")))  # noqa: S308


def word_diff(before: str, after: str) -> str:
    """HTML with <del> and <ins> around the words that changed."""
    old_words, new_words = before.split(" "), after.split(" ")
    parts = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(old_words[a1:a2])))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(' '.join(old_words[a1:a2]))}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(' '.join(new_words[b1:b2]))}</ins>")
    html = " ".join(parts).replace("\n", "<br>")
    return mark_safe(html)  # noqa: S308  (every piece above is escaped)


def previous_version(version: AgreementVersion) -> AgreementVersion | None:
    earlier = AgreementVersion.objects.filter(page_id=version.page_id).order_by(
        "-major", "-minor"
    )
    for candidate in earlier:
        if (candidate.major, candidate.minor) < (version.major, version.minor):
            return candidate
    return None


def agreement_page_context(page, user, requested: str | None = None) -> dict:
    versions = list(
        AgreementVersion.objects.filter(page_id=page.pk).order_by("-major", "-minor")
    )
    if not versions:
        return {"versions": [], "version": None}
    current = versions[0]
    shown = next((v for v in versions if v.number == requested), current)
    organisation = getattr(user, "organisation", None)
    status = organisation_status(current, organisation)
    return {
        "versions": versions,
        "version": shown,
        "current": current,
        "is_superseded": shown.pk != current.pk,
        "changes": version_diff(previous_version(shown), shown),
        "previous": previous_version(shown),
        "status": status,
        "can_acknowledge": (
            status is not None
            and status.state != AcknowledgementState.ACKNOWLEDGED
            and user.has_role(Role.SIGNATORY)
        ),
        "review_overdue": current.review_overdue(timezone.localdate()),
    }


class Refusal:
    """Why case material is closed, for the refusal page and the audit log."""

    NO_AGREEMENT = "no_agreement"
    NOT_PARTY = "not_party"
    NOT_ACKNOWLEDGED = "not_acknowledged"
    WITHDRAWN = "withdrawn"
    NO_ORGANISATION = "no_organisation"


@dataclass
class AccessDecision:
    """Whether a person may see case material under the agreement."""

    allowed: bool
    reason: str = ""
    version: AgreementVersion | None = None
    signatories: list[User] = field(default_factory=list)
    code: str = ""
    # Whom to ask when no signatory of the organisation can fix it.
    coordinators: list[User] = field(default_factory=list)
    agreement_url: str = ""


# The decision is the organisation's, so every server shares it for a few
# minutes at most.
SHARED_SECONDS = 300


def case_material_access(user) -> AccessDecision:
    """The one rule for case material, deny by default (docs/features.md,
    "Agreements"): the structural gate (``agreements.middleware``), the
    selectors, the home panels and search all ask here.

    A person passes only if their organisation is active, is a party to the
    current version of an Information Sharing Agreement in force, and has
    acknowledged it (or an earlier version, while the grace period after a new
    material version runs). No ISA published means no case material for
    anyone but coordinators, who run the partnership. Administrators without
    an organisation are no party and see no case material.

    The organisation's decision is shared through ``portal.freshness``
    (docs/caching.md), which also answers a page's repeated asks (the view,
    its selectors, the menu) from the one request.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AccessDecision(False, code=Refusal.NO_ORGANISATION)
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        decision = _no_organisation()
    else:
        # Kept until agreements, acknowledgements or accounts change (a new
        # version or acknowledgement is saved, so it outdates the token), or
        # the day or the grace period changes.
        decision = freshness.remember(
            ("isa-access", organisation_id, timezone.localdate(), grace_period().days),
            lambda: organisation_access(user.organisation),
            SHARED_SECONDS,
        )
    # Coordinators set the partnership up before its first ISA is published,
    # so they keep case material while none is in force; once one is, their
    # organisation answers to it like every other.
    if (
        not decision.allowed
        and user.has_role(Role.COORDINATOR)
        and not sharing_agreements_in_force()
    ):
        return AccessDecision(True)
    return decision


def sharing_agreements_in_force() -> list[AgreementVersion]:
    """The current version of every live Information Sharing Agreement (the
    Protocol grants nothing by itself)."""
    versions = current_versions()
    isa_pages = set(
        Page.objects.filter(
            pk__in=[v.page_id for v in versions],
            content_type__model=SharingAgreementPage._meta.model_name,
            content_type__app_label=SharingAgreementPage._meta.app_label,
        ).values_list("pk", flat=True)
    )
    return [v for v in versions if v.page_id in isa_pages]


def _in_standing(version: AgreementVersion, today: date) -> set[int]:
    """Parties to ``version`` that may see case material under it: those that
    acknowledged the version it needs, or an earlier version while the grace
    period after a new material version runs."""
    covered = _covered_organisations(version)
    due = (
        timezone.localtime(requirement_version(version).published_at).date()
        + grace_period()
    )
    if today <= due:
        covered |= set(
            Acknowledgement.objects.filter(version__page_id=version.page_id)
            .values_list("organisation_id", flat=True)
            .distinct()
        )
    return covered & version.signatory_ids


def organisations_in_good_standing(*, shared: bool = False) -> frozenset[int]:
    """Ids of the active organisations that may see case material now: the
    only organisations a case may be shared with, invited to or sent files.

    With ``shared``, the answer kept in the shared cache as the ISA decision
    is (``case_material_access``: five minutes, until an agreement, an
    acknowledgement or an organisation changes), for pages that offer the
    choice; a service deciding a share or an invitation asks afresh."""
    if shared:
        return freshness.remember(
            ("isa-good-standing", timezone.localdate(), grace_period().days),
            _organisations_in_good_standing,
            SHARED_SECONDS,
        )
    return _organisations_in_good_standing()


def _organisations_in_good_standing() -> frozenset[int]:
    isas = sharing_agreements_in_force()
    if not isas:
        return frozenset()
    today = timezone.localdate()
    active = set(Organisation.objects.taking_part().values_list("pk", flat=True))
    parties = set().union(*(v.signatory_ids for v in isas)) & active
    for version in isas:
        parties -= version.signatory_ids - _in_standing(version, today)
    return frozenset(parties)


def _coordinators() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, groups__name=Role.COORDINATOR.value
        ).order_by("last_name", "first_name")
    )


def _page_url(version: AgreementVersion) -> str:
    page = Page.objects.filter(pk=version.page_id).first()
    return (page.url or "") if page is not None else ""


def _no_organisation() -> AccessDecision:
    return AccessDecision(
        False,
        code=Refusal.NO_ORGANISATION,
        reason=(
            "Your account belongs to no partner organisation, so it is not a party "
            "to the Information Sharing Agreement. Case material is shared only "
            "with the organisations listed in it."
        ),
        coordinators=_coordinators(),
    )


def organisation_access(organisation: Organisation) -> AccessDecision:
    """The decision for everyone at ``organisation`` who is not a coordinator."""
    if not organisation.active:
        return AccessDecision(
            False,
            code=Refusal.WITHDRAWN,
            reason=(
                f"{organisation} has withdrawn from the partnership, so case "
                "material is no longer shared with it."
            ),
            coordinators=_coordinators(),
        )
    isas = sharing_agreements_in_force()
    if not isas:
        return AccessDecision(
            False,
            code=Refusal.NO_AGREEMENT,
            reason=(
                "No Information Sharing Agreement is in force, so no case material "
                "is shared with partner organisations until one is published."
            ),
            coordinators=_coordinators(),
        )
    mine = [v for v in isas if organisation.pk in v.signatory_ids]
    if not mine:
        return AccessDecision(
            False,
            code=Refusal.NOT_PARTY,
            reason=(
                f"{organisation} is not a party to the current version of "
                f"{isas[0].title}, so case material is not shared with it. Only "
                "the organisations listed in the agreement may see it."
            ),
            version=isas[0],
            coordinators=_coordinators(),
            agreement_url=_page_url(isas[0]),
        )
    today = timezone.localdate()
    for version in mine:
        if organisation.pk in _in_standing(version, today):
            continue
        required = requirement_version(version)
        due = timezone.localtime(required.published_at).date() + grace_period()
        signatories = list(
            User.objects.filter(
                organisation=organisation,
                is_active=True,
                groups__name=Role.SIGNATORY.value,
            ).order_by("last_name")
        )
        when = f", which was due by {long_date(due)}" if today > due else ""
        return AccessDecision(
            False,
            code=Refusal.NOT_ACKNOWLEDGED,
            reason=(
                f"{organisation} has not acknowledged version {required.number} of "
                f"{version.title}{when}. Case material is closed to your "
                "organisation until one of its signatories acknowledges it."
            ),
            version=version,
            signatories=signatories,
            coordinators=_coordinators(),
            agreement_url=_page_url(version),
        )
    return AccessDecision(True)
