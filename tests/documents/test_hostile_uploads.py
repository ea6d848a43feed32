"""The files an outside security test uploaded, through both upload paths.

Shared files and referral attachments go through one checker
(files.checks), so each hostile file is refused by both, with the same
rule and a message that says what to do, and nothing is stored; plain files
are still accepted by both. To add a case, add one line to HOSTILE.
"""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from documents.models import SharedFile
from referrals.models import ReferralAttachment
from referrals.services import draft_start
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories import hostile as h
from tests.factories.documents import JPEG, PDF, PNG, office, upload
from tests.factories.referrals import complete_answers

pytestmark = pytest.mark.django_db

# Small, so that the zip bomb (about 100 KB) is refused for what it unpacks
# to, not for its size.
LIMIT = 256 * 1024
NOT_ACCEPTED = (
    "{subject} must be a PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), "
    "PNG, JPEG, TXT or CSV"
)
ACTIVE_PDF = (
    "{subject} is a PDF with active content such as scripts. Save it again as a "
    "plain PDF and try again"
)

# (file name, bytes, the message; {subject} is the file's name for shared
# files and "The selected file" for the one referral attachment)
HOSTILE = {
    "docx bomb": ("report.docx", h.docx_bomb, "{subject} unpacks to far more than "
                  "its size, so it cannot be accepted. Save it again, or send it "
                  "as a PDF"),
    "pdf/html polyglot": ("invoice.pdf", h.pdf_html_polyglot, "{subject} is not a "
                          "plain PDF: it also contains web page code. Save it "
                          "again as a PDF and try again"),
    "pdf script in object stream": ("a.pdf", h.pdf_script_in_object_stream,
                                    ACTIVE_PDF),
    "pdf script, escaped names": ("b.pdf", h.pdf_script_with_escaped_names,
                                  ACTIVE_PDF),
    "pdf script on page open": ("c.pdf", h.pdf_page_additional_action, ACTIVE_PDF),
    "pdf launch action": ("d.pdf", h.pdf_launch, ACTIVE_PDF),
    "pdf embedded file": ("e.pdf", h.pdf_embedded_file, "{subject} is a PDF with "
                          "other files inside it. Save it again as a plain PDF, "
                          "send any other files separately, and try again"),
    "pdf xfa form": ("f.pdf", h.pdf_xfa_form, "{subject} is a PDF form that can run "
                     "code (an XFA form). Save it again as a plain PDF and try "
                     "again"),
    "hta": ("update.hta", lambda: h.HTA, NOT_ACCEPTED),
    "html": ("x.html", lambda: h.HTML, NOT_ACCEPTED),
    "exe with a pdf header": ("fdp.exe", h.exe_with_pdf_header, NOT_ACCEPTED),
    "pdf that is not one": ("fdp.pdf", h.exe_with_pdf_header, "{subject} is damaged "
                            "and cannot be opened. Save it again and try again"),
    "docm": ("letter.docm", h.docm, "{subject} contains macros, which can run "
             "code. Save it again without macros (as a DOCX, XLSX or ODT), or as "
             "a PDF, and try again"),
    "docm renamed docx": ("letter.docx", h.docm, "{subject} contains macros, which "
                          "can run code. Save it again without macros (as a "
                          "DOCX, XLSX or ODT), or as a PDF, and try again"),
    "empty": ("empty.pdf", lambda: b"", "{subject} is empty"),
    "over the limit": ("big.pdf", lambda: PDF + b"\n" * LIMIT,
                       "{subject} must be smaller than 256.0\xa0KB"),
}  # fmt: skip

PLAIN = {
    "pdf": ("minutes.pdf", lambda: PDF),
    "docx": ("plan.docx", lambda: office("docx")),
    "png": ("photo.png", lambda: PNG),
    "jpeg": ("photo.jpg", lambda: JPEG),
}


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = LIMIT


@pytest.fixture
def people():
    sender = UserFactory(organisation=OrganisationFactory(), roles=[Role.REFERRER])
    return sender, OrganisationFactory()


def share_through_the_form(sender, recipient, name, content):
    client = verified_client_for(sender)
    page = client.get(reverse("documents:new")).content.decode()
    key = page.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    day = timezone.localdate() + timedelta(days=10)
    return client.post(
        reverse("documents:new"),
        {
            "submission_key": key,
            "target": "organisations",
            "organisations": [recipient.pk],
            "note": "For the panel.",
            "expires_0": str(day.day),
            "expires_1": str(day.month),
            "expires_2": str(day.year),
            "files": [upload(name, content)],
        },
    )


def attach_through_the_form(sender, name, content):
    client = verified_client_for(sender)
    draft = draft_start(user=sender)
    answers = {
        field: values if len(values) != 1 else values[0]
        for field, values in complete_answers()["risk"].items()
    }
    url = reverse("referrals:section", args=[draft.public_id, "risk"])
    return client.post(
        url,
        {
            **answers,
            "action": "save",
            "risk_assessment": upload(name, content),
            "risk_assessment_visibility": "restricted",
        },
    )


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(("name", "build", "message"), HOSTILE.values(), ids=HOSTILE)
class TestHostileUploadsAreRefused:
    def test_as_a_shared_file(self, people, name, build, message):
        sender, recipient = people
        response = share_through_the_form(sender, recipient, name, build())
        assert response.status_code == 400
        assert message.format(subject=name) in page_text(response)
        assert not SharedFile.objects.exists()

    def test_as_a_referral_attachment(self, people, name, build, message):
        sender, _ = people
        response = attach_through_the_form(sender, name, build())
        assert response.status_code == 400
        assert message.format(subject="The selected file") in page_text(response)
        assert not ReferralAttachment.objects.exists()


@pytest.mark.parametrize(("name", "build"), PLAIN.values(), ids=PLAIN)
class TestPlainFilesAreAccepted:
    def test_as_a_shared_file(self, people, name, build):
        sender, recipient = people
        response = share_through_the_form(sender, recipient, name, build())
        assert response.status_code == 302, page_text(response)[:3000]
        assert SharedFile.objects.get().display_name == name

    def test_as_a_referral_attachment(self, people, name, build):
        sender, _ = people
        response = attach_through_the_form(sender, name, build())
        assert response.status_code == 302, page_text(response)[:3000]
        assert ReferralAttachment.objects.get().original_name == name
