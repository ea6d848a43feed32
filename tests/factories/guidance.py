"""Guidance pages, built and published the way editors and coordinators do."""

from datetime import timedelta

from django.utils import timezone

from home.models import GuidanceIndexPage, GuidancePage, HomePage
from tests.factories import UserFactory


def guidance_index():
    index = GuidanceIndexPage.objects.first()
    if index is None:
        index = GuidanceIndexPage(title="Guidance", slug="guidance")
        HomePage.objects.get().add_child(instance=index)
    return index


def guidance(
    *, title="When to refer", owner=None, body=None, review_in=90,
    reviewed_ago=30, publish=True, summary="Who should refer, and when.",
):  # fmt: skip
    owner = owner or UserFactory(roles=["Editors"])
    today = timezone.localdate()
    page = GuidancePage(
        title=title,
        summary=summary,
        body=body or [("text", "<p>Refer when the risk is high.</p>")],
        owner_person=owner,
        last_reviewed=today - timedelta(days=reviewed_ago),
        review_by=today + timedelta(days=review_in),
    )
    guidance_index().add_child(instance=page)
    if publish:
        page.save_revision(user=owner).publish()
    else:
        page.live = False
        page.save_revision(user=owner)
        page.save()
    return GuidancePage.objects.get(pk=page.pk)
