"""Published documents (Wagtail's, our own model): only verified partner users
get them, collection privacy still holds, each download is audited, and an
editor's upload meets the same type rules as a shared file."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import PortalDocument
from tests.conftest import sign_in_with_password, verified_client_for
from tests.factories import UserFactory
from tests.factories.documents import PDF

pytestmark = pytest.mark.django_db


def _document(collection=None):
    return PortalDocument.objects.create(
        title="Terms of reference",
        file=ContentFile(PDF, name="terms.pdf"),
        collection=collection or Collection.get_first_root_node(),
    )


def test_the_portal_uses_its_own_document_model():
    assert get_document_model() is PortalDocument


def test_a_verified_partner_downloads_and_it_is_audited():
    document = _document()
    reader = UserFactory(roles=[Role.REFERRER])
    response = verified_client_for(reader).get(document.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    event = AuditEvent.objects.get(action="document.resource_downloaded")
    assert event.actor == reader
    assert event.object_id == str(document.pk)


def test_anonymous_and_password_only_users_do_not_get_it(client):
    document = _document()
    response = client.get(document.url)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    sign_in_with_password(client, UserFactory(roles=[Role.REFERRER]))
    response = client.get(document.url)
    assert response.status_code == 302
    assert "/sign-in/set-up-authenticator/" in response["Location"]  # second factor
    assert not AuditEvent.objects.filter(action="document.resource_downloaded")


def test_collection_privacy_still_applies_to_verified_partners():
    root = Collection.get_first_root_node()
    private = root.add_child(name="Coordinators only")
    restriction = CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.get(name=Role.COORDINATOR.value)])
    document = _document(private)
    outsider = verified_client_for(UserFactory(roles=[Role.REFERRER]))
    assert outsider.get(document.url).status_code in (302, 403, 404)
    assert not AuditEvent.objects.filter(action="document.resource_downloaded")
    insider = verified_client_for(UserFactory(roles=[Role.COORDINATOR]))
    assert insider.get(document.url).status_code == 200


class TestEditorUploads:
    def _clean(self, name, content):
        document = PortalDocument(
            title="Upload", file=SimpleUploadedFile(name, content)
        )
        document.collection = Collection.get_first_root_node()
        document.full_clean()

    def test_a_real_pdf_is_accepted(self):
        self._clean("guide.pdf", PDF)

    def test_an_executable_named_pdf_is_refused(self):
        with pytest.raises(ValidationError, match="is not really a PDF"):
            self._clean("guide.pdf", b"MZ\x90\x00" + b"\x00" * 64)
