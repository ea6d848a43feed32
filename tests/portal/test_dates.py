"""Dates read the GOV.UK way everywhere, "6 December 2026" (portal.dates).

https://www.gov.uk/guidance/style-guide/a-to-z#dates
"""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from documents.models import Share
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared

SAINT_NICHOLAS = timezone.make_aware(datetime.datetime(2026, 12, 6, 14, 30))
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Referral pages are another piece of work; times to the second are receipts.
OWN_FORMATS = {"DATETIME_FORMAT", "YEAR_MONTH_FORMAT", "j F Y, H:i:s T", "H:i"}


def test_templates_use_the_portal_formats():
    stray = []
    for path in TEMPLATES.rglob("*"):
        if path.suffix not in (".html", ".txt") or "referrals" in path.parts:
            continue
        for fmt in re.findall(r'\|date:"([^"]*)"', path.read_text()):
            if fmt not in OWN_FORMATS:
                stray.append(f"{path.relative_to(TEMPLATES)}: {fmt}")
    assert not stray


def test_a_date_in_a_template_reads_in_full():
    rendered = Template("{{ day }}|{{ day|date }}|{{ when|date:'DATETIME_FORMAT' }}")
    context = Context({"day": SAINT_NICHOLAS.date(), "when": SAINT_NICHOLAS})
    assert rendered.render(context) == (
        "6 December 2026|6 December 2026|6 December 2026, 14:30"
    )


@pytest.mark.django_db
class TestOnPages:
    def test_shared_files_list_gives_the_month_in_full(self):
        sender = UserFactory(roles=["Referrers"])
        share = shared(sender, [OrganisationFactory()])
        Share.objects.filter(pk=share.pk).update(created_at=SAINT_NICHOLAS)
        client = verified_client_for(sender)
        page = client.get(reverse("documents:index") + "?show=sent")
        assert "6 December 2026" in page.content.decode()

    def test_names_written_in_python_have_no_leading_zero(self):
        sender = UserFactory(roles=["Referrers"])
        share = shared(sender, [OrganisationFactory()])
        share.created_at = SAINT_NICHOLAS
        assert str(share).endswith(" on 6 December 2026")
