"""Opening a share's edit forms and saving them unchanged changes nothing: not
the share, its recipients or files, nor the audit trail beyond the reads.

Each test renders the page, reads what its form shows (``tests.forms``) and
posts exactly that back, as a person pressing the button without typing would.
The share's own forms are its expiry ("bring forward") and its recall; a
share is never edited otherwise, and a new share is not an edit.
"""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import Share
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload
from tests.forms import post_back_unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def share():
    housing = OrganisationFactory(name="Housing")
    police, fire = OrganisationFactory(name="Police"), OrganisationFactory(name="Fire")
    sender = UserFactory(organisation=housing, roles=[Role.REFERRER])
    return shared(
        sender,
        [police, fire],
        note="For the panel.\nRead before Tuesday.",
        expires_at=timezone.now() + timedelta(days=20),
    )


def _state(share) -> dict:
    share = Share.objects.get(pk=share.pk)
    return {
        "share": model_to_dict(share),
        "recipients": sorted(share.recipients.values_list("organisation", flat=True)),
        "files": sorted(share.files.values_list("display_name", "sha256")),
    }


def _changes() -> list[str]:
    """Audit actions other than reads: what saving changed."""
    return list(
        AuditEvent.objects.exclude(action="read").values_list("action", flat=True)
    )


class TestSavingAShareFormUnchanged:
    def test_bringing_the_expiry_forward(self, share):
        client = verified_client_for(share.sent_by)
        before, changes = _state(share), _changes()
        response = post_back_unchanged(
            client, share.get_absolute_url(), with_field="shorten-expires_0"
        )
        # Nothing typed is nothing to change: the page asks for a date.
        assert response.status_code == 400
        assert "Enter the new expiry date" in response.content.decode()
        assert _state(share) == before
        assert _changes() == changes

    def test_recalling(self, share):
        client = verified_client_for(share.sent_by)
        before, changes = _state(share), _changes()
        response = post_back_unchanged(
            client,
            reverse("documents:recall", args=[share.public_id]),
            with_field="reason",
        )
        assert response.status_code == 400
        assert "Enter why you are recalling the files" in response.content.decode()
        assert _state(share) == before
        assert Share.objects.get(pk=share.pk).recalled_at is None
        assert _changes() == changes


def test_a_note_typed_on_the_page_is_kept_with_plain_newlines(share):
    """What a browser sends (CRLF) is stored as code would store it."""
    sender = share.sent_by
    client = verified_client_for(sender)
    page = client.get(reverse("documents:new"))
    key = page.context["form"]["submission_key"].value()
    until = timezone.localdate() + timedelta(days=5)
    police = share.recipients.get(organisation__name="Police").organisation
    response = client.post(
        reverse("documents:new"),
        {
            "submission_key": str(key),
            "files": [upload("notes.pdf")],
            "target": "organisations",
            "organisations": [police.pk],
            "note": "First line.\r\nSecond line.",
            "expires_0": str(until.day),
            "expires_1": str(until.month),
            "expires_2": str(until.year),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Share.objects.latest("created_at").note == "First line.\nSecond line."
