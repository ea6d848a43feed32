"""The officer's own records go when their period ends: a closed subject
access request with its bundles, and a decided objection or erasure request,
RIGHTS_REQUEST_RETENTION_MONTHS after closing or deciding (rights.disposal)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from jobs.schedule import JOBS
from rights.audit_actions import RightsAction
from rights.disposal import rights_requests_dispose
from rights.models import (
    DisclosureBundle,
    RequestDecision,
    RequestKind,
    RightsRequest,
    SarStatus,
    SubjectAccessRequest,
)
from rights.sar import sar_open
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAME = "Rowan Tidewell"


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.DPO])


def _closed_sar(officer, closed_days_ago: int) -> SubjectAccessRequest:
    sar = sar_open(user=officer, requester_name=NAME,
                   received_on=timezone.localdate() - timedelta(days=900),
                   requester_phone="07700 900123")  # fmt: skip
    bundle = DisclosureBundle(sar=sar, version=1, pdf_sha256="0" * 64, pdf_size=4,
                              json_sha256="0" * 64, json_size=2,
                              built_by=officer)  # fmt: skip
    bundle.pdf.save("bundle.pdf", ContentFile(b"%PDF"), save=False)
    bundle.json.save("bundle.json", ContentFile(b"{}"), save=False)
    bundle.save()
    SubjectAccessRequest.objects.filter(pk=sar.pk).update(
        status=SarStatus.CLOSED,
        closed_at=timezone.now() - timedelta(days=closed_days_ago),
    )
    return sar


def _decided(officer, decided_days_ago: int) -> RightsRequest:
    return RightsRequest.objects.create(
        kind=RequestKind.OBJECTION, requester_name=NAME,
        received_on=timezone.localdate() - timedelta(days=900),
        grounds="Objects to the sharing", recorded_by=officer,
        decision=RequestDecision.REFUSED, decision_reasons="Needed",
        decided_by=officer,
        decided_at=timezone.now() - timedelta(days=decided_days_ago),
    )  # fmt: skip


def test_the_day_after_the_period_they_go_with_their_files(
    officer, settings, django_capture_on_commit_callbacks
):
    settings.RIGHTS_REQUEST_RETENTION_MONTHS = 24
    old_sar = _closed_sar(officer, closed_days_ago=800)
    files = [b.pdf.name for b in old_sar.bundles.all()] + [
        b.json.name for b in old_sar.bundles.all()
    ]
    kept_sar = _closed_sar(officer, closed_days_ago=700)
    old_request = _decided(officer, decided_days_ago=800)
    kept_request = _decided(officer, decided_days_ago=700)
    with django_capture_on_commit_callbacks(execute=True):
        done = rights_requests_dispose(day=timezone.localdate())
    assert (done.access_requests, done.bundles, done.other_requests) == (1, 1, 1)
    assert list(SubjectAccessRequest.objects.values_list("pk", flat=True)) == [
        kept_sar.pk
    ]
    assert list(RightsRequest.objects.values_list("pk", flat=True)) == [kept_request.pk]
    assert not DisclosureBundle.objects.filter(sar_id=old_sar.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert not RightsRequest.objects.filter(pk=old_request.pk).exists()
    event = AuditEvent.objects.get(action=RightsAction.REQUESTS_DISPOSED)
    assert event.detail == {"count": 2, "months": 24}
    assert NAME not in str(event.detail)


def test_open_requests_are_never_disposed_of(officer):
    sar = sar_open(user=officer, requester_name=NAME,
                   received_on=timezone.localdate() - timedelta(days=900))  # fmt: skip
    undecided = RightsRequest.objects.create(
        kind=RequestKind.ERASURE, requester_name=NAME,
        received_on=timezone.localdate() - timedelta(days=900),
        grounds="Wants the case erased", recorded_by=officer,
    )  # fmt: skip
    rights_requests_dispose(day=timezone.localdate() + timedelta(days=3000))
    assert SubjectAccessRequest.objects.filter(pk=sar.pk).exists()
    assert RightsRequest.objects.filter(pk=undecided.pk).exists()


def test_the_daily_job_runs_it(officer):
    _closed_sar(officer, closed_days_ago=800)
    out = StringIO()
    call_command("dispose_rights_requests", *JOBS["dispose_rights_requests"].args,
                 stdout=out)  # fmt: skip
    assert "Deleted 1 subject access requests (1 bundles)" in out.getvalue()
