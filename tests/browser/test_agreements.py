"""A signatory signs in, reads the agreement, acknowledges it and downloads the
receipt, in Chromium, with axe-core on every page on the way."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from agreements.models import Acknowledgement
from tests.conftest import current_code
from tests.factories import TOTPDeviceFactory
from tests.factories.agreements import agreement_tree, signatory_for

from .conftest import assert_accessible, screenshot
from .test_sign_in import enter_password, enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signatory_reads_acknowledges_and_downloads_the_receipt(page, live_server):
    _, isa, organisations, _ = agreement_tree()
    signer = signatory_for(organisations[0])
    device = TOTPDeviceFactory(user=signer)

    enter_password(page, live_server.url, signer.username)
    enter_security_code(page, current_code(device))
    expect(
        page.get_by_role("heading", name="Agreements to acknowledge")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="CMARAC ISA, version 1.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CMARAC ISA")
    expect(page.get_by_text("Kept for two years after closure.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role(
        "link", name=f"Acknowledge version 1.0 for {organisations[0]}"
    ).click()
    assert_accessible(page)
    # Submitting without the confirmation box is explained, and nothing typed is lost.
    page.get_by_label("Your job title").fill("Head of Housing")
    page.get_by_role("button", name="Acknowledge version 1.0").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.get_by_label("Your job title")).to_have_value("Head of Housing")
    assert_accessible(page)

    page.get_by_label("I confirm that I have read this agreement").check()
    page.get_by_role("button", name="Acknowledge version 1.0").click()
    expect(page.get_by_role("heading", name="Acknowledgement recorded")).to_be_visible()
    ack = Acknowledgement.objects.get()
    expect(page.get_by_text(ack.hash)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "agreement-receipt")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the receipt (PDF)").click()
    pdf = download_info.value
    reader = PdfReader(io.BytesIO(Path(pdf.path()).read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert ack.hash[:20] in text
    assert ack.signatory_role == "Head of Housing"
