"""A disposed case's content in meetings: its agenda items (discussion,
decisions, invitations), its actions, and the packs that showed it.

Referrals know nothing of meetings, so the disposal job
(``referrals.retention.referral_dispose``) sends ``case_disposing`` and this
answers, inside the disposal's transaction. Minutes are built from agenda
items on each download, so they lose the case with its items; packs are
deleted with their stored files and, where papers are out, rebuilt without it.
"""

from django.dispatch import receiver

from files.stored import kind_for, objects_delete
from referrals.retention import Destroyed
from referrals.signals import case_disposing

from .models import Action, AgendaItem, Meeting, MeetingPack


@receiver(case_disposing, dispatch_uid="meetings.case_disposing")
def case_content_destroy(sender, referral, **kwargs) -> Destroyed:
    destroyed = Destroyed()
    items = AgendaItem.objects.filter(referral=referral)
    meeting_ids = set(items.values_list("meeting_id", flat=True))
    actions = Action.objects.filter(referral=referral)
    packs = list(MeetingPack.objects.filter(meeting_id__in=meeting_ids))
    destroyed.add("actions", actions)
    destroyed.add("agenda_items", items)
    destroyed.add(
        "agenda_invitations",
        AgendaItem.invited.through.objects.filter(agendaitem__referral=referral),
    )
    destroyed.add("meeting_packs", packs)
    actions.delete()
    items.delete()
    MeetingPack.objects.filter(pk__in=[pack.pk for pack in packs]).delete()
    objects_delete(kind_for(MeetingPack, "file"), [pack.file.name for pack in packs])

    from .services import packs_outdated_in

    packs_outdated_in(Meeting.objects.filter(pk__in=meeting_ids))
    return destroyed
