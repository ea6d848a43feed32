"""Demo guidance: an index and four pages owned by the partnership officer,
one of them past its review date. Written for the demo, in our own words."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from agreements.models import SharingAgreementPage
from documents.demo import RESOURCES_COLLECTION, RESOURCES_DOCUMENT_TITLE
from documents.models import PortalDocument

from .models import GuidanceIndexPage, GuidancePage, HomePage, MeetingResourcesPage


def _text(html: str):
    return ("text", html)


def _pages(isa) -> list[dict]:
    agreement = (
        [("agreement", {"agreement": isa, "version": "", "text": ""})] if isa else []
    )
    return [
        {
            "title": "When to refer to the Community MARAC",
            "slug": "when-to-refer",
            "summary": "For caseworkers deciding whether a case belongs at the "
            "Community MARAC or another panel.",
            "reviewed_days_ago": 40,
            "body": [
                _text(
                    "<h2>Refer when</h2><ul><li>someone is being harmed by "
                    "anti-social behaviour and is vulnerable</li><li>the risk is "
                    "high or rising</li><li>one agency cannot reduce the risk "
                    "alone</li></ul>"
                ),
                (
                    "warning",
                    {
                        "text": "If someone is in immediate danger, call 999 first. "
                        "A referral is not an emergency response."
                    },
                ),
                (
                    "details",
                    {
                        "summary": "Cases that belong at another panel",
                        "content": "<p>Domestic abuse goes to the DA MARAC, "
                        "offender management to MAPPA, and child protection to "
                        "the safeguarding hub. Tell the coordinator if you are "
                        "not sure.</p>",
                    },
                ),
                *agreement,
            ],
        },
        {
            "title": "Sharing information without consent",
            "slug": "sharing-without-consent",
            "summary": "When you may share someone's information without asking "
            "them, and how to record why.",
            "reviewed_days_ago": 100,
            "body": [
                _text(
                    "<p>Ask for consent unless asking would put someone at "
                    "risk, or the person cannot decide for themselves. Record "
                    "your reasons on the referral every time.</p>"
                ),
                (
                    "inset",
                    {
                        "text": "<p>Example: asking a victim for consent while the "
                        "person harming them is in the room is not safe.</p>"
                    },
                ),
                *agreement,
            ],
        },
        {
            "title": "Preparing for a meeting",
            "slug": "preparing-for-a-meeting",
            "summary": "What each agency brings to a CMARAC meeting.",
            "reviewed_days_ago": 20,
            "body": [
                (
                    "accordion",
                    {
                        "sections": [
                            {
                                "heading": "Before the meeting",
                                "content": "<p>Read your pack and update your "
                                "organisation's actions.</p>",
                            },
                            {
                                "heading": "At the meeting",
                                "content": "<p>Bring what your agency knows and "
                                "what it can offer. Agree owners and dates.</p>",
                            },
                            {
                                "heading": "After the meeting",
                                "content": "<p>Start your actions and record "
                                "progress in the portal.</p>",
                            },
                        ]
                    },
                )
            ],
        },
        {
            "title": "Keeping case papers safe",
            "slug": "keeping-case-papers-safe",
            "summary": "How to store, share and destroy meeting packs and files.",
            # Past its review date: the owner is reminded and the page says so.
            "reviewed_days_ago": 400,
            "review_in_days": -35,
            "body": [
                _text(
                    "<p>Download papers only to secure work devices. Do not "
                    "print them unless you must, and shred printed copies after "
                    "the meeting.</p>"
                )
            ],
        },
    ]


def demo_guidance_seed() -> int:
    """Create the meeting resources page and the guidance; returns guidance
    pages created (0 if they exist)."""
    demo_resources_page_seed()
    if GuidanceIndexPage.objects.exists():
        return 0
    home = HomePage.objects.get()
    owner = User.objects.get(username="editor")
    publisher = User.objects.get(username="coordinator")
    index = GuidanceIndexPage(
        title="Guidance",
        slug="guidance",
        introduction="<p>How the partnership works, for staff at member agencies.</p>",
    )
    home.add_child(instance=index)
    index.save_revision(user=publisher).publish(user=publisher)
    today = timezone.localdate()
    isa = SharingAgreementPage.objects.live().first()
    made = 0
    for spec in _pages(isa):
        reviewed = today - timedelta(days=spec["reviewed_days_ago"])
        page = GuidancePage(
            title=spec["title"],
            slug=spec["slug"],
            summary=spec["summary"],
            body=spec["body"],
            owner_person=owner,
            last_reviewed=reviewed,
            review_by=today + timedelta(days=spec.get("review_in_days", 180)),
        )
        index.add_child(instance=page)
        page.save_revision(user=owner).publish(user=publisher)
        made += 1
    return made


def demo_resources_page_seed() -> None:
    """The meeting resources page, linking the terms of reference that the
    shared files demo put in the private resources collection."""
    if MeetingResourcesPage.objects.exists():
        return
    document = PortalDocument.objects.get(
        title=RESOURCES_DOCUMENT_TITLE, collection__name=RESOURCES_COLLECTION
    )
    page = MeetingResourcesPage(
        title="Meeting resources",
        slug="meeting-resources",
        introduction=(
            "<p>What every member agency needs for CMARAC meetings: the terms "
            "of reference, and how meetings run.</p>"
        ),
        body=(
            "<h2>Before a meeting</h2><p>Read your agency's pack and bring updates "
            "on your open actions.</p><h2>Apologies</h2><p>Send a deputy who can "
            "agree actions for your agency, and tell the coordinator.</p>"
        ),
        resources=[
            (
                "document",
                {
                    "document": document,
                    "title": "",
                    "description": "Read before your first meeting.",
                },
            )
        ],
    )
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
