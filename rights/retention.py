"""A disposed case leaves nothing in the person index or in a subject
access request.

The disposal job (``referrals.retention.referral_dispose``) sends
``case_disposing`` inside its transaction; this deletes every index row that
belongs to the case, from whichever record it came (answers, agenda items,
actions, shares and their files), and the items of subject access requests
that chose records of the case (the officer's notes of third-party names on
them are personal data). The index rows are derived from the records the
other apps destroy, so they are not counted; the requests' items are.
"""

from django.dispatch import receiver

from referrals.retention import Destroyed
from referrals.signals import case_disposing

from .models import SarItem
from .services import referral_unindex


@receiver(case_disposing, dispatch_uid="rights.case_disposing")
def case_index_destroy(sender, referral, **kwargs) -> Destroyed:
    referral_unindex(referral_id=referral.pk)
    destroyed = Destroyed()
    items = list(SarItem.objects.filter(referral=referral))
    if items:  # counted only where there were some, as the tombstone shows
        destroyed.add("subject_access_items", items)
        SarItem.objects.filter(pk__in=[item.pk for item in items]).delete()
    return destroyed
