"""What needs each person, for the home page.

Each panel is read through the app's own selectors, so nobody sees on the
dashboard what they could not open. Every list is cut to a few rows and every
total is one COUNT, so the number of queries does not grow with the data.

The home page that shows the panels is kept whole in the shared cache for a
minute per person (``portal.page_cache``), under the token of the portal's
data and the one of file openings: any change to a referral, action, meeting,
share, agreement, page or account, or a colleague opening a file, makes every
server render them afresh (docs/caching.md).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Role, User
from agreements.models import AgreementIndexPage
from agreements.selectors import (
    acknowledgements_awaiting,
    case_material_access,
    coverage,
    coverage_visible_to,
    current_versions,
)
from documents.selectors import may_exchange, shares_received, unopened_count
from meetings.models import ActionStatus
from meetings.selectors import (
    actions_of,
    actions_overdue,
    meetings_ahead_with_papers,
    meetings_invited_to,
    minutes_late,
)
from partners.selectors import withdrawn_still_named
from referrals.models import OPEN_STATUSES, Status
from referrals.selectors import drafts_of, referrals_visible_to
from rights.selectors import may_handle_data_rights

from .models import GuidancePage, MeetingResourcesPage

ROWS = 5
SCREENING = (Status.SUBMITTED, Status.SCREENING)


@dataclass
class Panel:
    """A heading, a total, a few rows and where to deal with the rest."""

    title: str
    total: int
    rows: list = field(default_factory=list)
    link: str = ""
    link_text: str = ""


def dashboard_html(user: User) -> SafeString:
    """The rendered panels for ``user``. Not cached here: the home page that
    shows them is kept whole, per person (``portal.page_cache``)."""
    context = {"organisation": user.organisation, **dashboard_for(user)}
    html = render_to_string("home/includes/dashboard.html", context)
    return mark_safe(html)  # noqa: S308  (our own template's output)


def dashboard_for(user: User) -> dict:
    today = timezone.localdate()
    context = {
        "awaiting_acknowledgement": acknowledgements_awaiting(user),
        "agreements_index": AgreementIndexPage.objects.live().first(),
        "resources_page": MeetingResourcesPage.objects.live().first(),
        # The officer's own screens, whatever the agreement says about case
        # material for their organisation (rights.selectors).
        "data_protection": may_handle_data_rights(user),
    }
    if coverage_visible_to(user):
        # About the agreements, not cases: shown whether or not case material
        # is open to the coordinator's organisation.
        versions = current_versions()
        context["overdue_reviews"] = [v for v in versions if v.review_overdue()]
        if user.has_role(Role.COORDINATOR):
            context["coverage"] = [(v, coverage(v)[1]) for v in versions]
    if user.is_superuser or user.has_role(Role.COORDINATOR):
        context["withdrawn_still_named"] = withdrawn_still_named()
    access = case_material_access(user)
    if not access.allowed:
        # The same rule as every case route: no case material at all, and
        # the reason, for people at an organisation the agreement closes it to.
        if user.organisation_id:
            context["case_material_closed"] = access
        return context | _guidance_panels(user, today)
    if user.has_role(Role.REFERRER) and user.organisation_id:
        context.update(_agency_panels(user, today))
    if user.has_role(Role.COORDINATOR):
        context.update(_coordinator_panels(user, today))
    return context | _guidance_panels(user, today)


def _guidance_panels(user: User, today) -> dict:
    if not (user.has_role(Role.EDITOR) or user.has_role(Role.COORDINATOR)):
        return {}
    owned = GuidancePage.objects.filter(
        owner_person=user, review_by__lte=today + timedelta(days=30)
    ).order_by("review_by")
    return {
        "guidance_due": Panel(
            "Your guidance due for review",
            owned.count(),
            list(owned[:ROWS]),
        )
    }


def _agency_panels(user: User, today) -> dict:
    from django.urls import reverse

    drafts = drafts_of(user).order_by("-updated_at")
    ours = (
        referrals_visible_to(user)
        .filter(organisation_id=user.organisation_id, status__in=OPEN_STATUSES)
        .order_by("-status_changed_at")
    )
    actions = actions_of(user.organisation).filter(status=ActionStatus.OPEN)
    # Before papers are issued too: they are asked to reply (the panel says
    # which have papers).
    meetings = meetings_invited_to(user).filter(starts_at__gte=timezone.now())
    meetings = meetings.order_by("starts_at")
    panels = {
        "drafts": Panel(
            "Your draft referrals",
            drafts.count(),
            list(drafts[:ROWS]),
            reverse("referrals:index"),
            "All your drafts and referrals",
        ),
        "open_referrals": Panel(
            "Your organisation's open referrals",
            ours.count(),
            list(ours[:ROWS]),
            reverse("referrals:index"),
            "All referrals",
        ),
        "information_requested": ours.filter(
            status=Status.INFORMATION_REQUESTED
        ).count(),
        "actions": Panel(
            "Your organisation's open actions",
            actions.count(),
            list(actions[:ROWS]),
            reverse("meetings:our_actions"),
            "Update your organisation's actions",
        ),
        "actions_overdue": actions.filter(due__lt=today).count(),
        "next_meetings": Panel(
            "Your next meetings",
            meetings.count(),
            list(meetings[:3]),
            reverse("meetings:index"),
            "All meetings",
        ),
    }
    if may_exchange(user):
        received = shares_received(user).filter(
            recalled_at__isnull=True, expires_at__gt=timezone.now()
        )
        panels["new_files"] = Panel(
            "Files shared with your organisation",
            unopened_count(user),
            [share for share in received[:ROWS] if _has_new(share)],
            reverse("documents:index"),
            "All shared files",
        )
    return panels


def _has_new(share) -> bool:
    return any(not item.opened_by_us for item in share.files.all())


def _coordinator_panels(user: User, today) -> dict:
    from django.urls import reverse

    visible = referrals_visible_to(user)
    queue = visible.filter(status__in=SCREENING).order_by("-urgent", "submitted_at")
    reviews = (
        visible.filter(status=Status.ACCEPTED)
        .annotate(review_due=Max("agenda_items__next_review"))
        .filter(review_due__lt=today)
        .order_by("review_due")
    )
    late = minutes_late(today)
    asked = visible.filter(status=Status.INFORMATION_REQUESTED).order_by(
        "status_changed_at"
    )
    ahead = meetings_ahead_with_papers(user)
    overdue = actions_overdue(user, today)
    return {
        "cycle": True,
        "meetings_ahead": Panel(
            "Next meetings",
            ahead.count(),
            list(ahead[:3]),
            reverse("meetings:index"),
            "All meetings",
        ),
        "information_waiting": Panel(
            "Waiting for more information from the referrer",
            asked.count(),
            list(asked.select_related("organisation")[:ROWS]),
            reverse("referrals:index"),
            "All referrals",
        ),
        "actions_overdue_all": Panel(
            "Overdue actions across agencies",
            overdue.count(),
            list(overdue[:ROWS]),
        ),
        "screening": Panel(
            "Screening queue",
            queue.count(),
            list(queue[:ROWS]),
            reverse("referrals:index"),
            "All referrals",
        ),
        "answers_waiting": visible.filter(status=Status.INFORMATION_REQUESTED).count(),
        "reviews_overdue": Panel(
            "Case reviews overdue",
            reviews.count(),
            list(reviews[:ROWS]),
        ),
        "minutes_late": Panel(
            "Minutes not issued on time",
            late.count(),
            list(late[:ROWS]),
            reverse("meetings:index"),
            "All meetings",
        ),
        "retention": _retention_panel(today),
    }


def _retention_panel(today) -> dict:
    """Cases due for disposal within 30 days and not on hold, open cases to
    close, and whether the disposal job has stopped running."""
    from referrals.retention import (
        disposal_review,
        referrals_inactive,
        retention_stale,
    )

    _, due = disposal_review(today)
    return {
        "due": sum(1 for case in due if case.hold is None),
        "inactive": referrals_inactive().count(),
        "stale": retention_stale(),
    }
