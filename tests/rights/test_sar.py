"""Subject access requests: the due date and its extension, the officer's
review of each record, the disclosure bundle (what it holds and what it
hides), its hashes, the reminders, and objection and erasure requests.

Time travel: the due date and reminders are asked about chosen days
(``received_on``, ``today``), before, on and after each threshold.
"""

import hashlib
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent
from jobs.models import OutgoingEmail
from referrals.models import DisposalReason, Referral, Status, Tombstone
from referrals.retention import legal_hold_place
from referrals.services import referral_transition
from rights.deadlines import sar_due_on
from rights.matching import query_read
from rights.models import (
    Exemption,
    ItemDecision,
    RequestDecision,
    RequestKind,
    SarStatus,
)
from rights.objections import rights_request_decide, rights_request_record
from rights.records import record_fields
from rights.sar import (
    WITHHELD_THIRD_PARTY,
    SarRefused,
    sar_bundle_build,
    sar_extend,
    sar_identity_record,
    sar_item_review,
    sar_items_add,
    sar_open,
    sar_reminders_send,
    sar_status_set,
)
from rights.selectors import person_search
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import retention_version
from tests.factories.meetings import coordinator
from tests.factories.referrals import person
from tests.factories.referrals import submitted_referral as submitted

pytestmark = pytest.mark.django_db

NAME = "Philippa Brackenbury"
OTHER = "Horatio Quilliam"  # named in her case: a third party
STRANGER = "Euphemia Stonehouse"  # in another case only
BORN = date(1981, 5, 17)


@pytest.fixture
def officer():
    return UserFactory(
        roles=[Role.DPO], organisation=OrganisationFactory(), email="dpo@example.org"
    )


@pytest.fixture
def cases():
    hers = submitted(
        people=[
            person(0, name=NAME, born=(17, 5, 1981)),
            person(1, role="causing_harm", name=OTHER, born=(2, 2, 1979),
                   phone="07700 900 444"),
        ]
    )  # fmt: skip
    theirs = submitted(people=[person(0, name=STRANGER, born=(9, 9, 1990))])
    return hers, theirs


def _open(officer, received_on=None):
    return sar_open(
        user=officer,
        requester_name=NAME,
        requester_date_of_birth=BORN,
        received_on=received_on or timezone.localdate(),
    )


def _found(officer):
    found = person_search(officer, query_read(f"{NAME} 17 5 1981"))
    return sorted(
        {
            (hit.source.key, hit.mention.source_id)
            for g in found.groups
            for hit in g.hits
        }
    )


def _third_party_labels(item):
    from rights.sar import _record

    _, record = _record(item.source_key, item.source_id)
    return [
        f.label
        for f in record_fields(item.source_key, record)
        if "person 2" in f.label.lower()
    ]


def _reviewed_sar(officer):
    sar = _open(officer)
    items = sar_items_add(sar=sar, user=officer, records=_found(officer))
    for item in items:
        sar_item_review(
            item=item,
            user=officer,
            decision=ItemDecision.DISCLOSE,
            third_party_fields=_third_party_labels(item),
            third_party_names=OTHER,
        )
    return sar, items


class TestDueDate:
    def test_one_calendar_month_then_the_next_working_day(self):
        assert sar_due_on(date(2026, 3, 10)) == date(2026, 4, 10)
        # 31 January: February is shorter, so its last day (a Saturday in
        # 2026), then the Monday.
        assert sar_due_on(date(2026, 1, 31)) == date(2026, 3, 2)
        assert sar_due_on(date(2026, 3, 10), 2) == date(2026, 6, 10)

    def test_the_clock_starts_at_the_identity_check_if_later(self, officer):
        today = timezone.localdate()
        sar = _open(officer, received_on=today - timedelta(days=20))
        assert sar.due_on == sar_due_on(today - timedelta(days=20))
        sar = sar_identity_record(
            sar=sar, user=officer, method="documents", checked_on=today
        )
        assert sar.clock_starts_on == today
        assert sar.due_on == sar_due_on(today)
        assert sar.status == SarStatus.IDENTITY_CHECKED

    def test_extended_once_by_at_most_two_months_with_a_reason(self, officer):
        sar = _open(officer, received_on=date(2026, 3, 10))
        with pytest.raises(SarRefused) as refused:
            sar_extend(sar=sar, user=officer, months=3, reason="Complex")
        assert refused.value.field == "months"
        with pytest.raises(SarRefused):
            sar_extend(sar=sar, user=officer, months=2, reason="  ")
        sar = sar_extend(sar=sar, user=officer, months=2, reason="Complex")
        assert sar.due_on == date(2026, 6, 10)
        with pytest.raises(SarRefused, match="only once"):
            sar_extend(sar=sar, user=officer, months=1, reason="Again")

    def test_only_the_officer(self, officer):
        coordinator_ = coordinator()
        with pytest.raises(SarRefused):
            sar_open(user=coordinator_, requester_name=NAME,
                     received_on=timezone.localdate())  # fmt: skip


class TestReminders:
    def test_seven_days_one_day_and_overdue_each_exactly_once(self, officer):
        sar = _open(officer, received_on=date(2026, 3, 10))
        due = sar.due_on  # 10 April 2026, a Friday
        assert sar_reminders_send(today=due - timedelta(days=8)).week == 0
        for _ in range(2):
            sent = sar_reminders_send(today=due - timedelta(days=7))
        assert (sent.week, sent.day, sent.overdue) == (0, 0, 0)
        assert OutgoingEmail.objects.filter(event__endswith=":week").count() == 1
        sar_reminders_send(today=due - timedelta(days=1))
        sar_reminders_send(today=due - timedelta(days=1))
        sar_reminders_send(today=due)  # still 0 days left: the day reminder
        assert OutgoingEmail.objects.filter(event__endswith=":day").count() == 1
        sar_reminders_send(today=due + timedelta(days=1))
        sar_reminders_send(today=due + timedelta(days=5))
        assert OutgoingEmail.objects.filter(event__endswith=":overdue").count() == 1
        assert OutgoingEmail.objects.count() == 3
        for email in OutgoingEmail.objects.all():
            assert sar.reference in email.subject
            assert NAME not in email.body and "Brackenbury" not in email.subject
            assert reverse("rights:sar", args=[sar.pk]) in email.body
            assert email.to == "dpo@example.org"
        assert AuditEvent.objects.filter(action="rights.sar_reminded").count() == 3

    def test_an_extension_sets_the_reminders_going_again(self, officer):
        sar = _open(officer, received_on=date(2026, 3, 10))
        sar_reminders_send(today=sar.due_on - timedelta(days=7))
        sar = sar_extend(sar=sar, user=officer, months=1, reason="Complex")
        sar_reminders_send(today=sar.due_on - timedelta(days=7))
        assert OutgoingEmail.objects.filter(event__endswith=":week").count() == 2

    def test_a_finished_request_is_not_reminded(self, officer):
        sar = _open(officer, received_on=date(2026, 3, 10))
        sar_status_set(sar=sar, user=officer, status=SarStatus.REFUSED,
                       reason="Manifestly unfounded")  # fmt: skip
        sar_reminders_send(today=sar.due_on + timedelta(days=3))
        assert not OutgoingEmail.objects.exists()


class TestReview:
    def test_a_bundle_is_refused_until_every_item_is_reviewed(self, officer, cases):
        sar = _open(officer)
        with pytest.raises(SarRefused, match="Add at least one record"):
            sar_bundle_build(sar=sar, user=officer)
        items = sar_items_add(sar=sar, user=officer, records=_found(officer))
        assert len(items) >= 1
        sar_item_review(item=items[0], user=officer, decision=ItemDecision.DISCLOSE)
        if len(items) == 1:
            items = items + sar_items_add(
                sar=sar, user=officer, records=[("referral", cases[1].pk)]
            )
        with pytest.raises(SarRefused) as refused:
            sar_bundle_build(sar=sar, user=officer)
        assert len(refused.value.errors) == len(items) - 1
        assert not sar.bundles.exists()

    def test_the_page_refuses_with_an_error_summary_naming_the_item(
        self, officer, cases
    ):
        sar = _open(officer)
        [item, *_] = sar_items_add(sar=sar, user=officer, records=_found(officer))
        response = verified_client_for(officer).post(
            reverse("rights:sar_bundle", args=[sar.pk])
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "govuk-error-summary" in page
        assert f'href="#item-{item.pk}"' in page
        assert "govuk-error-message" in page

    def test_withholding_needs_an_exemption(self, officer, cases):
        sar = _open(officer)
        [item, *_] = sar_items_add(sar=sar, user=officer, records=_found(officer))
        with pytest.raises(SarRefused) as refused:
            sar_item_review(item=item, user=officer, decision=ItemDecision.WITHHOLD)
        assert refused.value.field == "exemption"


@pytest.mark.slow
class TestBundle:
    def test_every_item_about_her_and_nothing_else_unredacted(self, officer, cases):
        hers, theirs = cases
        sar, items = _reviewed_sar(officer)
        held = _found(officer)
        bundle = sar_bundle_build(sar=sar, user=officer)
        content = json.loads(bundle.json.read())
        bundle.json.seek(0)
        assert [i["record_id"] for i in content["items"]] == [
            f"{key}:{pk}" for key, pk in held
        ]
        assert f"referral:{hers.pk}" in {i["record_id"] for i in content["items"]}
        text = json.dumps(content)
        assert NAME in text
        for absent in (OTHER, "Quilliam", STRANGER, theirs.reference):
            assert absent not in text, absent
        assert WITHHELD_THIRD_PARTY in text
        # The PDF says the same, with its table of contents.
        bundle.pdf.open("rb")
        pdf_text = "".join(p.extract_text() for p in PdfReader(bundle.pdf).pages)
        assert "Contents" in pdf_text and NAME in pdf_text
        assert OTHER not in pdf_text and STRANGER not in pdf_text
        assert "[withheld: third party]" in pdf_text

    def test_the_record_of_disclosure_hashes_the_files(self, officer, cases):
        sar, items = _reviewed_sar(officer)
        sar_item_review(item=items[0], user=officer, decision=ItemDecision.WITHHOLD,
                        exemption=Exemption.CRIME)  # fmt: skip
        first = sar_bundle_build(sar=sar, user=officer)
        second = sar_bundle_build(sar=sar, user=officer)
        assert (first.version, second.version) == (1, 2)
        for bundle in (first, second):
            with bundle.pdf.open("rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == bundle.pdf_sha256
            with bundle.json.open("rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == bundle.json_sha256
        assert [i["item_id"] for i in second.items] == [i.pk for i in items]
        assert second.items[0]["decision"] == "withhold"
        assert second.items[0]["exemption"] == Exemption.CRIME
        content = json.loads(second.json.open("rb").read())
        assert content["items"][0]["withheld"].startswith("[withheld: exemption")
        assert content["items"][0]["fields"] == []
        # Closing keeps the latest version's files and the record of both.
        sar_status_set(sar=sar, user=officer, status=SarStatus.CLOSED)
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.files_deleted_at and not second.files_deleted_at
        assert first.pdf_sha256

    def test_downloads_are_the_officers_and_audited(self, officer, cases):
        sar, _ = _reviewed_sar(officer)
        bundle = sar_bundle_build(sar=sar, user=officer)
        url = reverse("rights:sar_bundle_download",
                      args=[sar.pk, bundle.public_id, "json"])  # fmt: skip
        assert verified_client_for(coordinator()).get(url).status_code == 403
        response = verified_client_for(officer).get(url)
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == bundle.json_sha256
        event = AuditEvent.objects.get(action="rights.sar_bundle_downloaded")
        assert event.detail["version"] == 1 and event.actor == officer


class TestErasure:
    def _closed(self, referral):
        boss = coordinator()
        for to in (Status.SCREENING, Status.ACCEPTED, Status.CLOSED):
            referral = referral_transition(
                referral=referral, to_status=to, user=boss,
                expected_status=referral.status, reason="Done", feedback="Thanks",
            )  # fmt: skip
        return referral

    def _request(self, officer, referral):
        return rights_request_record(
            user=officer, kind=RequestKind.ERASURE, requester_name=NAME,
            case_references=[referral.reference], received_on=timezone.localdate(),
            grounds="No longer needed",
        )  # fmt: skip

    def test_upheld_disposes_of_the_case_with_an_erasure_tombstone(
        self, officer, cases, django_capture_on_commit_callbacks
    ):
        retention_version(case_months=24)
        hers = cases[0]
        record = self._request(officer, hers)
        sar, _ = _reviewed_sar(officer)  # her SAR chose records of the case
        with django_capture_on_commit_callbacks(execute=True):
            decided = rights_request_decide(
                record=record, user=officer, decision=RequestDecision.UPHELD,
                reasons="No overriding grounds",
            )  # fmt: skip
        assert decided.outcome == {hers.reference: "disposed"}
        assert not Referral.objects.filter(pk=hers.pk).exists()
        tombstone = Tombstone.objects.get(reference=hers.reference)
        assert tombstone.reason == DisposalReason.ERASURE
        assert tombstone.get_reason_display() == "Erasure request"
        assert tombstone.counts["subject_access_items"] >= 1
        assert Referral.objects.filter(pk=cases[1].pk).exists()

    def test_a_legal_hold_blocks_it_and_the_officer_is_told(self, officer, cases):
        retention_version(case_months=24)
        boss = coordinator()
        hers = self._closed(cases[0])
        review = timezone.localdate() + timedelta(days=30)
        legal_hold_place(referral=hers, user=boss, reason="Inquest",
                         review_date=review)  # fmt: skip
        record = self._request(officer, hers)
        response = verified_client_for(officer).post(
            reverse("rights:request", args=[record.pk]),
            {"decision": "upheld", "reasons": "No overriding grounds"},
            follow=True,
        )
        assert "on legal hold" in response.content.decode()
        assert Referral.objects.filter(pk=hers.pk).exists()
        record.refresh_from_db()
        assert record.outcome == {hers.reference: "held"}
        assert not Tombstone.objects.exists()

    def test_refused_changes_nothing(self, officer, cases):
        retention_version(case_months=24)
        hers = cases[0]
        record = self._request(officer, hers)
        before = Referral.objects.get(pk=hers.pk).answers
        decided = rights_request_decide(
            record=record, user=officer, decision=RequestDecision.REFUSED,
            reasons="Legal obligation to keep it",
        )  # fmt: skip
        assert decided.outcome == {}
        assert Referral.objects.get(pk=hers.pk).answers == before
        assert not Tombstone.objects.exists()
        with pytest.raises(SarRefused, match="already been decided"):
            rights_request_decide(
                record=record, user=officer, decision=RequestDecision.UPHELD,
                reasons="x",
            )  # fmt: skip

    def test_objections_are_recorded_and_decided(self, officer, cases):
        record = rights_request_record(
            user=officer, kind=RequestKind.OBJECTION, requester_name=NAME,
            case_references=[cases[0].reference], received_on=timezone.localdate(),
            grounds="Objects to sharing with housing",
        )  # fmt: skip
        decided = rights_request_decide(record=record, user=officer,
                                        decision=RequestDecision.UPHELD,
                                        reasons="Sharing stops")  # fmt: skip
        assert decided.decided_by == officer and decided.decided_at
        assert Referral.objects.filter(pk=cases[0].pk).exists()
        event = AuditEvent.objects.get(action="rights.request_decided")
        assert NAME not in event.canonical()
