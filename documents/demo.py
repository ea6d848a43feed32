"""Demo shared files and meeting resources, made through the services.

- The police share a patrol log with housing, which housing has opened.
- The noise team shares a noise diary with the council, not opened yet.
- Housing shares a tenancy note on its own referral (to everyone who can
  see it), and recalls an earlier one sent in error.
- The noise team shared an older diary 25 months ago: its share ended long
  since and the agreement's shared-file period (24 months after sharing) has
  passed, so the retention page lists its record and the next run of
  ``apply_retention`` destroys it.
- The meeting resources live in a collection that only signed-in partners
  can open, with a terms-of-reference PDF the resources page links to.

All content is invented, in our own words.
"""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from wagtail.models import Collection, CollectionViewRestriction

from accounts.models import Organisation, User
from portal.pdf import html_to_pdf
from referrals.models import Referral

from .models import PortalDocument, Share
from .services import file_download_record, share_create, share_recall

DEMO_SENDERS = ("police.referrer", "noise.referrer", "housing.referrer")
RESOURCES_COLLECTION = "Meeting resources"
# The home app's meeting resources page links this document (home/demo.py).
RESOURCES_DOCUMENT_TITLE = "CMARAC terms of reference"


def _file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), "text/plain")


def _pdf(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return html_to_pdf(
        f"<html lang='en'><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _org(slug: str) -> Organisation:
    return Organisation.objects.get(slug=slug)


def demo_documents_seed() -> int:
    """Create the demo shares and resources; return how many shares were made.
    Makes nothing if the demo senders have shared anything already."""
    _resources_seed()
    if Share.objects.filter(sent_by__username__in=DEMO_SENDERS).exists():
        return 0
    police, noise, housing = (_user(name) for name in DEMO_SENDERS)
    patrol_log = _pdf(
        "Patrol log summary, Orchard Court",
        [
            "Officers attended Orchard Court six times in four weeks after "
            "reports of groups gathering in the stairwell at night.",
            "Two visits found the communal door wedged open. Residents on the "
            "third floor say they no longer use the lift after dark.",
            "Invented for the demo: no real people or places.",
        ],
    )
    opened, _ = share_create(
        user=police,
        uploads=[
            SimpleUploadedFile("Patrol log summary.pdf", patrol_log, "application/pdf")
        ],
        organisations=[_org("housing")],
        note="Summary for the tenancy enforcement review. Please confirm receipt.",
    )
    file_download_record(item=opened.files.get(), user=_user("housing.referrer"))

    share_create(
        user=noise,
        uploads=[
            _file(
                "Noise diary October.csv",
                "date,time,what was heard,duration\n"
                "2026-10-03,23:40,music through the ceiling,2 hours\n"
                "2026-10-09,01:15,shouting on the landing,20 minutes\n"
                "2026-10-17,00:30,music through the ceiling,3 hours\n",
            )
        ],
        organisations=[_org("council")],
        note="Diary kept by Margaret Demoford, typed up by our officer.",
    )

    # A housing referral other agencies can see (it is on a meeting agenda).
    referral = (
        Referral.objects.filter(organisation=housing.organisation, shares__isnull=False)
        .order_by("submitted_at")
        .first()
    )
    if referral is not None:
        share_create(
            user=housing,
            uploads=[
                _file(
                    "Tenancy visit note.txt",
                    "Home visit made. The tenant was anxious about visitors who "
                    "stay for days. Agreed to a follow-up visit with the support "
                    "worker next week.\n",
                )
            ],
            referral=referral,
            note=f"Visit note for {referral.reference}.",
        )
    wrong, _ = share_create(
        user=housing,
        uploads=[_file("Draft letter.txt", "Draft letter, not for sharing.\n")],
        organisations=[_org("fire")],
    )
    share_recall(share=wrong, user=housing, reason="Sent to the wrong agency")
    _old_share_seed(noise)
    return Share.objects.filter(sent_by__username__in=DEMO_SENDERS).count()


def _old_share_seed(noise: User) -> Share:
    """A share made through the service, then moved back 25 months, as
    ``referrals.retention_demo`` does for its old cases."""
    old, _ = share_create(
        user=noise,
        uploads=[
            _file(
                "Noise diary, two winters ago.csv",
                "date,time,what was heard,duration\n"
                "2024-11-02,23:10,bass through the wall,1 hour\n",
            )
        ],
        organisations=[_org("council")],
        note="Diary from the earlier complaint, for the council's file.",
    )
    shared_on = timezone.now() - timedelta(days=25 * 31)
    Share.objects.filter(pk=old.pk).update(
        created_at=shared_on, expires_at=shared_on + timedelta(days=30)
    )
    return old


def _resources_seed() -> PortalDocument:
    """The meeting resources collection, open only to signed-in users (and the
    portal's gate makes that verified partners), with the terms of reference."""
    root = Collection.get_first_root_node()
    collection = root.get_children().filter(name=RESOURCES_COLLECTION).first()
    if collection is None:
        collection = root.add_child(name=RESOURCES_COLLECTION)
    CollectionViewRestriction.objects.get_or_create(
        collection=collection, restriction_type=CollectionViewRestriction.LOGIN
    )
    document = PortalDocument.objects.filter(
        collection=collection, title=RESOURCES_DOCUMENT_TITLE
    ).first()
    if document is None:
        content = _pdf(
            "CMARAC terms of reference",
            [
                "The Community MARAC meets monthly to agree actions for people at "
                "high risk from anti-social behaviour.",
                "Members share information under the partnership's information "
                "sharing agreement, and only what each case needs.",
                "Each agency sends someone who can commit its resources.",
            ],
        )
        document = PortalDocument.objects.create(
            title=RESOURCES_DOCUMENT_TITLE,
            file=ContentFile(content, name="cmarac-terms-of-reference.pdf"),
            collection=collection,
        )
    return document
