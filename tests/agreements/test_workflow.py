"""Editors draft a new version; publishing needs a coordinator's approval."""

import pytest
from django.urls import reverse
from wagtail.models import Page

from agreements.models import AgreementVersion
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.agreements import agreement_tree

pytestmark = pytest.mark.django_db


def test_editor_cannot_publish_and_coordinator_approval_freezes_the_version():
    _, isa, _, _ = agreement_tree()
    editor = UserFactory(roles=["Editors"])
    approver = UserFactory(roles=["Coordinators"])
    assert not isa.permissions_for_user(editor).can_publish()
    assert isa.permissions_for_user(approver).can_publish()

    draft = isa.get_latest_revision_as_object()
    draft.next_version = "1.1"
    draft.change_summary = "Clearer retention clause."
    draft.save_revision(user=editor)
    workflow = draft.get_workflow()
    assert workflow.name == "Coordinator approval"
    state = workflow.start(draft, editor)
    assert AgreementVersion.objects.filter(page_id=isa.pk).count() == 1

    task_state = state.current_task_state
    url = reverse(
        "wagtailadmin_pages:workflow_action", args=[isa.pk, "approve", task_state.pk]
    )
    response = verified_client_for(approver).post(url, {"comment": ""})
    assert response.status_code in (200, 302)

    version = Page.objects.get(pk=isa.pk).specific.latest_version
    assert version.number == "1.1"
    assert version.published_by == approver
    assert version.change_summary == "Clearer retention clause."
