"""A disposed case leaves nothing in the person index.

The disposal job (``referrals.retention.referral_dispose``) sends
``case_disposing`` inside its transaction; this deletes every index row that
belongs to the case, from whichever record it came (answers, agenda items,
actions, shares and their files). The rows are derived from the records the
other apps destroy and count in the tombstone, so none is counted here.
"""

from django.dispatch import receiver

from referrals.retention import Destroyed
from referrals.signals import case_disposing

from .services import referral_unindex


@receiver(case_disposing, dispatch_uid="rights.case_disposing")
def case_index_destroy(sender, referral, **kwargs) -> Destroyed:
    referral_unindex(referral_id=referral.pk)
    return Destroyed()
