"""The demo's notices. The other seed steps call the real services, which
record notices as they would in use (cases shared through meetings, actions
assigned, agreement versions to acknowledge); this step reads the older half
of each person's, as that person, so What's new shows read and unread."""

from accounts.models import User

from .models import Notice
from .services import notice_open


def demo_notices_seed() -> dict[str, int]:
    """Mark the older half of each demo person's notices read, once; returns
    how many notices there are and how many are now read."""
    read = 0
    for person in User.objects.filter(notices__isnull=False).distinct():
        notices = list(
            Notice.objects.filter(recipient=person).order_by("created_at", "pk")
        )
        if any(n.read_at for n in notices):
            continue  # seeded before
        for notice in notices[: len(notices) // 2]:
            notice_open(user=person, notice_id=notice.pk)
            read += 1
    return {"notices": Notice.objects.count(), "read": read}
