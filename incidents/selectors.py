"""Permission-aware reads of incidents and alerts. Views get them only here.

- Coordinators and the DPO (``people.may_handle``) see every incident and alert.
- Anyone else sees only the incidents they reported themselves: not their
  colleagues', not another agency's, and no alerts.
- Anyone else gets 404, never 403, so an address does not confirm a record.
"""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from documents.models import Share
from documents.selectors import shares_visible_to
from portal.forms import contains_null_character
from referrals.models import Referral
from referrals.selectors import referrals_visible_to

from .models import Alert, Incident, IncidentEvent, NotificationDecision
from .people import may_handle

# How many recent cases and shares the report form offers as check boxes;
# others are typed in by reference.
CHOICES_SHOWN = 30


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Incident.objects.none()
    incidents = Incident.objects.select_related("reported_by", "organisation")
    if may_handle(user):
        return incidents
    return incidents.filter(reported_by=user)


def incidents_listed_for(user: User) -> QuerySet[Incident]:
    """The list: with each incident's decisions, for its ICO clock."""
    return incidents_visible_to(user).prefetch_related("decisions")


def incident_for(user: User, reference: str) -> Incident:
    if contains_null_character(reference):
        raise Http404("No incident found")
    incident = (
        incidents_visible_to(user)
        .prefetch_related(
            "cases",
            "files",
            Prefetch(
                "decisions",
                queryset=NotificationDecision.objects.select_related("decided_by"),
            ),
            Prefetch(
                "timeline",
                queryset=IncidentEvent.objects.select_related("actor", "person"),
            ),
        )
        .filter(reference=reference)
        .first()
    )
    if incident is None:
        raise Http404("No incident found")
    return incident


def incident_to_handle(user: User, reference: str) -> Incident:
    """An incident for a coordinator or the DPO to act on, or 404."""
    if not may_handle(user):
        raise Http404("Only coordinators and the DPO handle incidents")
    return incident_for(user, reference)


def cases_reportable_by(user: User) -> QuerySet[Referral]:
    """The cases a person may name in a report: those they may see now."""
    return referrals_visible_to(user)


def recent_cases_for(user: User, also=()) -> list[Referral]:
    visible = cases_reportable_by(user).order_by("-submitted_at", "-pk")
    chosen = list(visible.filter(reference__in=list(also)))
    recent = list(visible.exclude(reference__in=list(also))[:CHOICES_SHOWN])
    return chosen + recent


def shares_reportable_by(user: User) -> QuerySet[Share]:
    return shares_visible_to(user)


def recent_shares_for(user: User, also=()) -> list[Share]:
    visible = shares_reportable_by(user).prefetch_related("files")
    chosen = list(visible.filter(public_id__in=list(also)))
    recent = list(
        visible.exclude(public_id__in=list(also)).order_by("-created_at", "-pk")[
            :CHOICES_SHOWN
        ]
    )
    return chosen + recent


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    if not may_handle(user):
        return Alert.objects.none()
    return Alert.objects.select_related("user", "incident")


def alert_for(user: User, alert_id: int) -> Alert:
    alert = alerts_visible_to(user).filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No alert found")
    return alert
