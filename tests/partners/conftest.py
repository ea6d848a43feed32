"""A partner about to withdraw, with something of every kind to undo."""

from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile

from accounts.models import Organisation, Role, User
from audit.services import audit_record
from documents.models import Share
from documents.services import file_download_record
from meetings.audit_actions import MeetingAction
from meetings.models import AgendaItem, Meeting, MeetingPack
from referrals.audit_actions import ReferralAction
from referrals.models import Referral, ReferralShare
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import share, submitted_referral
from tests.shared_setup import (
    read_again,
    rolled_back_after_module,
    stored_files_kept,
    stored_files_put_back,
)


@dataclass
class World:
    boss: User
    leaving: Organisation
    contact: User
    staff: User
    staying: Organisation
    sender: User
    case: Referral
    case_share: ReferralShare
    planned: Meeting
    item: AgendaItem
    pack: MeetingPack
    alone: Share
    with_others: Share


def pack_for(meeting_, organisation) -> MeetingPack:
    """A stored pack row with a file, as the background build leaves one."""
    pack = MeetingPack(
        meeting=meeting_,
        organisation=organisation,
        source_hash="0" * 64,
        pages=1,
        build_seconds=0.1,
    )
    pack.file.save("pack.pdf", ContentFile(b"%PDF-1.7 pack"), save=False)
    pack.save()
    return pack


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for a module: about half a second of setup that each test
    needs. Each test's own changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        made = _world_made()
        yield made, stored_files_kept()


@pytest.fixture
def world(_world, db) -> World:
    """The module's world, read afresh; the pack's and shares' files that a
    test running the withdrawal's commit callbacks deleted are put back."""
    made, files = _world
    stored_files_put_back(files)
    return read_again(made)


def _world_made() -> World:
    boss = UserFactory(roles=[Role.COORDINATOR])
    leaving = OrganisationFactory(name="Riverside Voluntary Group")
    contact = UserFactory(organisation=leaving, roles=[Role.REFERRER], first_name="Sam")
    leaving.single_point_of_contact = contact
    leaving.save()
    staff = UserFactory(organisation=leaving, roles=[Role.REFERRER])
    staying = OrganisationFactory(name="Northgate Housing")
    sender = UserFactory(organisation=staying, roles=[Role.REFERRER])
    case = submitted_referral(sender)
    planned = meeting(boss)
    item = on_agenda(planned, accepted(submitted_referral(), boss), [leaving], boss)
    return World(
        boss=boss,
        leaving=leaving,
        contact=contact,
        staff=staff,
        staying=staying,
        sender=sender,
        case=case,
        case_share=share(case, leaving),
        planned=planned,
        item=item,
        pack=pack_for(planned, leaving),
        alone=shared(sender, [leaving]),
        with_others=shared(sender, [leaving, OrganisationFactory()]),
    )


def downloads_of_every_kind(world: World) -> dict[str, str]:
    """One download of each kind by the leaving organisation's people; the
    label each should be listed under. The shared file goes through its
    service; the PDFs are recorded as their services record them (building
    them needs WeasyPrint, which the slow tests cover)."""
    item = world.alone.files.get()
    file_download_record(item=item, user=world.staff)
    audit_record(
        action=MeetingAction.PACK_DOWNLOADED,
        actor=world.staff,
        obj=world.pack,
        detail={"meeting": world.planned.pk, "organisation": world.leaving.pk,
                "pages": 1},
    )  # fmt: skip
    audit_record(
        action=MeetingAction.MINUTES_DOWNLOADED,
        actor=world.contact,
        obj=world.planned,
        detail={"organisation": world.leaving.pk, "cases": []},
    )
    audit_record(
        action=ReferralAction.PDF_DOWNLOADED,
        actor=world.staff,
        obj=world.case,
        detail={"redacted": False},
    )
    audit_record(
        action=ReferralAction.ATTACHMENT_DOWNLOADED,
        actor=world.staff,
        object_type="referrals.referralattachment",
        object_id=987654,
        detail={"reference": world.case.reference},
    )
    return {
        "shared_file": item.display_name,
        "pack": str(world.planned),
        "minutes": str(world.planned),
        "summary": world.case.reference,
        "attachment": "987654",
    }
