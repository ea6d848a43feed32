"""Retention: closure dates, legal holds, disposal and tombstones.

Time travel: the job is asked about a chosen day (``today``), the day before
and the day after a case's disposal date, under the ISA version in force then.
"""

import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Organisation, Role, User
from agreements.services import add_months
from documents.models import Share, SharedFile
from files.stored import kind_for
from meetings.models import Action, AgendaItem, Meeting, MeetingPack
from meetings.services import (
    action_add,
    attendance_record,
    case_discussion_record,
    meeting_mark_held,
    minutes_issue,
    minutes_save,
    papers_issue,
)
from referrals.models import (
    LegalHold,
    Referral,
    ReferralAttachment,
    ReferralDraft,
    ReferralPerson,
    RetentionRun,
    Status,
    Tombstone,
)
from referrals.retention import (
    RetentionRefused,
    content_hash,
    disposal_review,
    legal_hold_place,
    legal_hold_remove,
    referrals_inactive,
    retention_apply,
    retention_check,
    rows_snapshot,
)
from referrals.services import (
    attachment_add,
    case_note_add,
    referral_amend,
    referral_restrict,
    referral_submit,
    referral_transition,
)
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import retention_version
from tests.factories.documents import pdf, shared, upload
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda, started
from tests.factories.referrals import complete_answers, complete_draft, person
from tests.factories.referrals import submitted_referral as submitted
from tests.shared_setup import (
    rolled_back_after_module,
    stored_files_kept,
    stored_files_put_back,
)

# The shared case issues its meeting's papers, so WeasyPrint builds a pack.
pytestmark = pytest.mark.slow

NAME = "Zebedee Quartermaine"
OTHER_NAME = "Ottoline Keptcase"
ATTENDEE = "Cornelius Registerby"
MINUTED = "the flat on Quillsworth Row"
PHONE = "07700 900 982"
BY = "test run"


def _close(referral, boss):
    return referral_transition(
        referral=referral,
        to_status=Status.CLOSED,
        user=boss,
        expected_status=referral.status,
        reason="Risk reduced",
        feedback="Thank you",
    )


def _build_case(capture):
    """A closed case with content everywhere: people, an attachment, an agenda
    item with discussion, an action, a pack, and a shared file; beside it an
    open case on the same agenda, which must keep everything."""
    retention_version(case_months=24)
    boss = coordinator()
    police, housing = (
        OrganisationFactory(name="Police"),
        OrganisationFactory(name="Housing"),
    )
    author = UserFactory(organisation=housing, roles=[Role.REFERRER])
    draft = complete_draft(
        author, complete_answers(people=[person(0, name=NAME, phone=PHONE)])
    )
    with capture(execute=True):
        attachment = attachment_add(
            draft=draft,
            upload=upload(f"Risk assessment {NAME}.pdf"),
            user=author,
        )
    referral, _ = referral_submit(draft=draft, user=author)
    referral = accepted(referral, boss)
    other = accepted(
        submitted(
            UserFactory(organisation=housing, roles=[Role.REFERRER]),
            people=[person(0, name=OTHER_NAME, phone="07700 900 111")],
        ),
        boss,
    )
    upcoming = meeting(boss)
    item = on_agenda(upcoming, referral, [police], boss)
    on_agenda(upcoming, other, [police], boss)
    with capture(execute=True):
        papers_issue(meeting=upcoming, user=boss)
    meeting_mark_held(meeting=started(upcoming), user=boss)
    case_discussion_record(
        item=item,
        discussion=f"{NAME} was seen by the team.",
        risk_after="medium",
        decisions=f"Call {NAME} on {PHONE}.",
        user=boss,
    )
    action_add(
        item=item,
        owner=police,
        officer="PC Example",
        description=f"Visit {NAME}",
        due=timezone.localdate() + timedelta(days=7),
        user=boss,
    )
    with capture(execute=True):
        share = shared(
            author,
            [],
            referral=referral,
            files=[upload(f"Notes on {NAME}.pdf")],
            note=f"About {NAME}, phone {PHONE}",
        )
    # Case notes name people too: one the agency reads, one kept to the
    # coordinators.
    case_note_add(referral=referral, user=boss, text=f"{NAME} moved to {PHONE}")
    case_note_add(
        referral=referral, user=boss, text=f"{NAME} is safe", coordinators_only=True
    )
    # A correction keeps the old and new answers, a restriction its reason:
    # personal data that must go with the case.
    referral_amend(
        referral=referral,
        answer="people.people.0.full_name",
        value=f"{NAME} Junior",
        reason=f"{NAME} asked for the correction",
        user=boss,
    )
    referral_restrict(
        referral=referral, user=boss, reason=f"{NAME} disputes the address"
    )
    referral = _close(referral, boss)
    return {
        "referral": referral,
        "other": other,
        "boss": boss,
        "attachment": attachment,
        "share": share,
        "meeting": upcoming,
        "police": police,
    }


# Models of the case's objects, to read them afresh for each test.
CASE_MODELS = {
    "referral": Referral,
    "other": Referral,
    "boss": User,
    "attachment": ReferralAttachment,
    "share": Share,
    "meeting": Meeting,
    "police": Organisation,
}


@pytest.fixture(scope="module")
def _case_once(django_db_setup, django_db_blocker):
    """The case, built once for the module (its packs are WeasyPrint renders),
    with a copy of every stored file its rows then referred to."""
    with rolled_back_after_module(django_db_blocker):
        built = _build_case(TestCase.captureOnCommitCallbacks)
        files = stored_files_kept()
        yield {key: value.pk for key, value in built.items()}, files


@pytest.fixture
def case(_case_once, db):
    """The module's case, read afresh. Each test's rows are rolled back after
    it, but not its storage: files a disposal deleted are put back."""
    keys, files = _case_once
    stored_files_put_back(files)
    return {key: CASE_MODELS[key].objects.get(pk=pk) for key, pk in keys.items()}


def _due(referral, months=24):
    return add_months(timezone.localdate(referral.closed_at), months)


# Tests that need a partnership without the shared case come first: pytest
# builds the case (``_case_once``) for the first test that asks for it, and
# it stays until the end of the module.
class TestClosure:
    def test_closing_declining_and_redirecting_set_closed_at(self, db):
        boss = coordinator()
        referral = accepted(submitted(), boss)
        assert referral.closed_at is None
        closed = _close(referral, boss)
        assert closed.closed_at == closed.status_changed_at
        screening = referral_transition(
            referral=submitted(), to_status=Status.SCREENING, user=boss,
            expected_status=Status.SUBMITTED,
        )  # fmt: skip
        declined = referral_transition(
            referral=screening, to_status=Status.DECLINED, user=boss,
            expected_status=Status.SCREENING, reason="Not for this panel",
        )  # fmt: skip
        assert declined.closed_at is not None

    def test_open_case_untouched_for_six_months_is_listed_for_closure(self, db):
        quiet, busy = submitted(), submitted()
        long_ago = timezone.now() - timedelta(days=200)
        Referral.objects.filter(pk=quiet.pk).update(status_changed_at=long_ago)
        quiet.events.update(at=long_ago)
        assert list(referrals_inactive()) == [Referral.objects.get(pk=quiet.pk)]
        assert busy not in referrals_inactive()


class TestMonitoring:
    def test_health_warns_after_48_hours_without_a_run(self, db):
        assert retention_check() == "off"  # no agreement gives periods yet
        retention_version()
        assert retention_check() == "overdue"  # never run
        retention_apply(authorised_by=BY)
        assert retention_check() == "ok"
        RetentionRun.objects.update(finished_at=timezone.now() - timedelta(hours=49))
        assert retention_check() == "overdue"

    def test_health_page_warns_of_the_overdue_job_without_failing(self, db, client):
        """A late daily job is for people to look into: the load balancer
        keeps sending requests (200), and the answer names the job."""
        retention_version()
        response = client.get("/health/")
        assert response.status_code == 200
        assert response.json()["checks"]["retention"] == "warning"
        assert response.json()["warnings"] == {"retention": "overdue"}


class TestCoordinatorHome:
    def test_home_warns_when_the_job_has_stopped(self, db):
        from home.dashboard import dashboard_for

        boss = coordinator()
        retention_version()
        assert dashboard_for(boss)["retention"]["stale"] is True
        retention_apply(authorised_by=BY)
        assert dashboard_for(boss)["retention"]["stale"] is False


class TestBackfill:
    def test_closed_cases_get_the_time_their_history_records(self, db):
        import importlib

        from django.apps import apps as django_apps

        backfill = importlib.import_module(
            "referrals.migrations.0007_referral_closed_at_backfill"
        ).backfill
        boss = coordinator()
        closed = _close(accepted(submitted(), boss), boss)
        step = closed.events.get(to_status=Status.CLOSED)
        step.at = timezone.now() - timedelta(days=400)
        step.save(update_fields=["at"])
        still_open = accepted(submitted(), boss)
        Referral.objects.update(closed_at=None)

        backfill(django_apps, None)

        closed.refresh_from_db()
        still_open.refresh_from_db()
        assert closed.closed_at == step.at
        assert still_open.closed_at is None


class TestTimeTravel:
    def test_day_before_the_period_ends_everything_is_kept(self, case):
        day_before = _due(case["referral"]) - timedelta(days=1)
        result = retention_apply(authorised_by=BY, today=day_before)
        assert result.disposed == []
        assert Referral.objects.filter(pk=case["referral"].pk).exists()
        assert AgendaItem.objects.filter(referral=case["referral"]).exists()
        assert Action.objects.filter(referral=case["referral"]).exists()
        assert ReferralAttachment.objects.filter(referral=case["referral"]).exists()
        assert Share.objects.filter(referral=case["referral"]).exists()

    def test_day_after_every_record_type_is_gone(
        self, case, django_capture_on_commit_callbacks
    ):
        referral = case["referral"]
        attachment_name = case["attachment"].file.name
        shared_name = SharedFile.objects.get(share=case["share"]).file.name
        pack_names = set(MeetingPack.objects.values_list("file", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            result = retention_apply(
                authorised_by=BY, today=_due(referral) + timedelta(days=1)
            )
        assert result.disposed == [referral.reference]
        assert not Referral.objects.filter(pk=referral.pk).exists()
        assert not ReferralPerson.objects.filter(full_name=NAME).exists()
        assert not AgendaItem.objects.filter(referral_id=referral.pk).exists()
        assert not Action.objects.filter(referral_id=referral.pk).exists()
        assert not Share.objects.filter(referral_id=referral.pk).exists()
        storage = kind_for(ReferralAttachment, "file").storage
        assert not storage.exists(attachment_name)
        assert not kind_for(SharedFile, "file").storage.exists(shared_name)
        pack_storage = kind_for(MeetingPack, "file").storage
        assert not any(pack_storage.exists(name) for name in pack_names)
        # The other case keeps its place, and the rebuilt pack shows only it.
        assert AgendaItem.objects.filter(referral=case["other"]).exists()
        for pack in MeetingPack.objects.all():
            with pack.file.open("rb") as stored:
                text = " ".join(page.extract_text() for page in PdfReader(stored).pages)
            assert NAME not in text
            assert case["other"].reference in text

    def test_legal_hold_suspends_disposal_until_removed(self, case):
        referral, boss = case["referral"], case["boss"]
        hold = legal_hold_place(
            referral=referral, user=boss, reason="Court proceedings pending",
            review_date=timezone.localdate() + timedelta(days=90),
        )  # fmt: skip
        after = _due(referral) + timedelta(days=1)
        result = retention_apply(authorised_by=BY, today=after)
        assert result.disposed == [] and result.held == [referral.reference]
        assert Referral.objects.filter(pk=referral.pk).exists()
        legal_hold_remove(hold=hold, user=boss, reason="Proceedings ended")
        result = retention_apply(authorised_by=BY, today=after)
        assert result.disposed == [referral.reference]

    def test_a_new_version_with_a_shorter_period_applies_from_its_date(self, case):
        referral = case["referral"]
        retention_version(case_months=18)
        assert (
            retention_apply(
                authorised_by=BY, today=_due(referral, 18) - timedelta(days=1)
            ).disposed
            == []
        )
        result = retention_apply(
            authorised_by=BY, today=_due(referral, 18) + timedelta(days=1)
        )
        assert result.disposed == [referral.reference]
        tombstone = Tombstone.objects.get(reference=referral.reference)
        assert tombstone.period_months == 18
        assert tombstone.agreement_version == result.schedule.version_label
        assert result.schedule.case_months == 18

    def test_dry_run_destroys_nothing_and_is_not_a_run(self, case):
        result = retention_apply(
            authorised_by=BY, dry_run=True, today=_due(case["referral"])
        )
        assert result.disposed == [case["referral"].reference]
        assert Referral.objects.filter(pk=case["referral"].pk).exists()
        assert not RetentionRun.objects.exists()

    def test_the_command_reports_what_it_did(self, case):
        out = io.StringIO()
        call_command("apply_retention", "--dry-run", stdout=out)
        assert "Would dispose of 0 case(s)" in out.getvalue()
        call_command("apply_retention", stdout=out)
        assert RetentionRun.objects.get().finished_at is not None


def _text_columns(model):
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def _rows_mentioning(needles: list[str]) -> list[str]:
    """Every table's text and JSON columns, searched for ``needles``."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.app_label == "audit":
            continue
        columns = _text_columns(model)
        if not columns:
            continue
        for values in model._default_manager.values_list(*columns):
            text = json.dumps(values, default=str)
            found += [f"{meta.label}: {n}" for n in needles if n in text]
    return found


class TestNoPersonalDataLeft:
    def test_disposed_case_leaves_its_names_and_phone_nowhere(
        self, case, django_capture_on_commit_callbacks
    ):
        needles = [NAME, PHONE]
        assert _rows_mentioning(needles), "the search must see the case first"
        # Files earlier tests left on disk belong to no row of this database.
        leftovers = _stored() - _stored(referenced=True)
        assert _objects_mentioning(needles, leftovers), "and the stored files"
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply(
                authorised_by=BY, today=_due(case["referral"]) + timedelta(days=1)
            )
        assert _rows_mentioning(needles) == []
        assert _rows_mentioning([OTHER_NAME]), "the other case is kept"
        assert _objects_mentioning(needles, leftovers) == []

    def test_disposed_share_leaves_its_note_and_names_nowhere(
        self, db, django_capture_on_commit_callbacks
    ):
        """A share not linked to a case, past the shared-file period: its note,
        file names and stored bytes (a PDF whose metadata names the person)."""
        retention_version(shared_file_months=24)
        housing, police = (
            OrganisationFactory(name=n) for n in ("Sharing housing", "Sharing police")
        )
        sender = UserFactory(organisation=housing, roles=[Role.REFERRER])
        content = pdf(lambda document: document.docinfo.__setitem__("/Title", NAME))
        with django_capture_on_commit_callbacks(execute=True):
            share = shared(
                sender,
                [police],
                files=[upload(f"Notes on {NAME}.pdf", content)],
                note=f"About {NAME}, phone {PHONE}",
            )
        needles = [NAME, PHONE]
        leftovers = _stored() - _stored(referenced=True)
        assert _rows_mentioning(needles), "the search must see the share first"
        assert _objects_mentioning(needles, leftovers), "and its stored file"
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply(
                authorised_by=BY,
                today=add_months(timezone.localdate(share.created_at), 24),
            )
        assert _rows_mentioning(needles) == []
        assert _objects_mentioning(needles, leftovers) == []

    def test_disposed_meeting_leaves_its_minutes_register_and_packs_nowhere(
        self, db, django_capture_on_commit_callbacks
    ):
        """A meeting past its period whose case is still open: the words of
        its minutes and register go, and its packs, which show the case's
        people, leave storage; the case itself keeps its own rows."""
        retention_version(meeting_months=24)
        boss = coordinator()
        police, housing = (
            OrganisationFactory(name=n) for n in ("Meeting police", "Meeting housing")
        )
        referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
        referral = accepted(
            submitted(referrer, people=[person(0, name=NAME, phone=PHONE)]), boss
        )
        held = meeting(boss)
        item = on_agenda(held, referral, [police], boss)
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=held, user=boss)
        started(held)
        attendance_record(
            meeting=held, organisation=police, name=ATTENDEE, status="present",
            confidentiality_confirmed=True, user=boss,
        )  # fmt: skip
        meeting_mark_held(meeting=held, user=boss)
        case_discussion_record(
            item=item, discussion=f"{ATTENDEE} has seen {MINUTED}.",
            risk_after="medium", decisions=f"Write to {MINUTED}.", user=boss,
        )  # fmt: skip
        minutes_save(meeting=held, general_minutes=f"{ATTENDEE} chaired", user=boss)
        minutes_issue(meeting=held, user=boss)
        words = [ATTENDEE, MINUTED]
        leftovers = _stored() - _stored(referenced=True)
        assert _rows_mentioning(words), "the search must see the minutes first"
        assert _objects_mentioning([NAME], leftovers), "and the packs"
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply(
                authorised_by=BY, today=add_months(timezone.localdate(), 24)
            )
        assert _rows_mentioning(words) == []
        assert _objects_mentioning([NAME, PHONE], leftovers) == []
        assert Referral.objects.filter(pk=referral.pk).exists()


def _stored(*, referenced=False) -> set:
    from files.stored import stored_kinds, stored_names

    found = set()
    for kind in stored_kinds():
        names = list(stored_names(kind.storage, kind.prefix))
        if referenced:
            names = kind.referenced(names) if names else []
        found |= {(kind.name, name) for name in names}
    return found


def _objects_mentioning(needles: list[str], skip: set) -> list[str]:
    """Every stored object of every kind, its bytes and (for PDFs) its text."""
    from files.stored import stored_kinds

    kinds = {kind.name: kind for kind in stored_kinds()}
    found = []
    for kind_name, name in sorted(_stored() - skip):
        kind = kinds[kind_name]
        with kind.storage.open(name, "rb") as stored:
            content = stored.read()
        text = content.decode("latin-1")
        if content.startswith(b"%PDF"):
            reader = PdfReader(io.BytesIO(content))
            text += " ".join(page.extract_text() for page in reader.pages)
        found += [f"{kind.name}:{name}: {n}" for n in needles if n in text]
    return found


class TestTombstone:
    def test_counts_hash_and_dates(self, case, django_capture_on_commit_callbacks):
        referral = case["referral"]
        # The canonical rows, read as the disposal will read them.
        expected_people = rows_snapshot(referral.people.all())
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply(authorised_by=BY, today=_due(referral))
        tombstone = Tombstone.objects.get(reference=referral.reference)
        assert tombstone.counts == {
            "actions": 1,
            "agenda_items": 1,
            "agenda_invitations": 2,  # police, and the referring agency
            "meeting_packs": 2,
            "file_downloads": 0,
            "shared_files": 1,
            "file_share_recipients": 1,
            "file_shares": 1,
            "attachments": 1,
            "people": 1,
            "history_entries": 4,
            "case_shares": 1,  # police, invited to the case
            "free_text_reviews": 0,
            "drafts": 1,
            "legal_holds": 0,
            "amendments": 1,
            "restrictions": 1,
            "case_notes": 2,
            "referrals": 1,
        }
        assert len(tombstone.content_hash) == 64
        assert tombstone.content_hash != content_hash(expected_people)
        assert tombstone.submitted_at == referral.submitted_at
        assert tombstone.closed_at == referral.closed_at
        assert tombstone.authorised_by == BY
        assert tombstone.period_months == 24
        assert NAME not in json.dumps(
            {f.attname: str(f.value_from_object(tombstone))
             for f in Tombstone._meta.concrete_fields}
        )  # fmt: skip

    def test_the_hash_is_of_the_rows_destroyed(self, db):
        boss = coordinator()
        referral = _close(
            accepted(submitted(people=[person(0, name=NAME)]), boss), boss
        )
        retention_version(case_months=24)
        expected = content_hash(
            [
                *rows_snapshot(referral.people.all()),
                *rows_snapshot(referral.events.all()),
                *rows_snapshot(ReferralDraft.objects.filter(referral=referral)),
                *rows_snapshot([Referral.objects.get(pk=referral.pk)]),
            ]
        )
        retention_apply(authorised_by=BY, today=_due(referral))
        assert Tombstone.objects.get(reference=referral.reference).content_hash == (
            expected
        )

    def test_a_disposed_reference_is_never_given_out_again(self, case):
        from referrals.models import ReferenceCounter

        referral = case["referral"]
        retention_apply(authorised_by=BY, today=_due(referral))
        # As if the counter came back from an older backup.
        ReferenceCounter.objects.filter(year=referral.year).update(
            last_number=referral.number - 1
        )
        fresh = submitted()
        assert fresh.reference != referral.reference
        assert fresh.number > referral.number
        assert not Tombstone.objects.filter(reference=fresh.reference).exists()

    def test_tombstones_cannot_be_changed(self, case):
        from django.db import DatabaseError, transaction

        retention_apply(authorised_by=BY, today=_due(case["referral"]))
        with pytest.raises(DatabaseError), transaction.atomic():
            Tombstone.objects.update(authorised_by="someone else")


class TestLegalHolds:
    def test_only_coordinators_with_a_reason_and_a_future_review(self, case):
        referral = case["referral"]
        later = timezone.localdate() + timedelta(days=30)
        with pytest.raises(RetentionRefused):
            legal_hold_place(referral=referral, user=UserFactory(), reason="x",
                             review_date=later)  # fmt: skip
        with pytest.raises(RetentionRefused, match="Enter why"):
            legal_hold_place(referral=referral, user=case["boss"], reason=" ",
                             review_date=later)  # fmt: skip
        with pytest.raises(RetentionRefused, match="future"):
            legal_hold_place(referral=referral, user=case["boss"], reason="Court",
                             review_date=timezone.localdate())  # fmt: skip
        hold = legal_hold_place(referral=referral, user=case["boss"], reason="Court",
                                review_date=later)  # fmt: skip
        with pytest.raises(RetentionRefused, match="already"):
            legal_hold_place(referral=referral, user=case["boss"], reason="Again",
                             review_date=later)  # fmt: skip
        with pytest.raises(RetentionRefused, match="no longer needed"):
            legal_hold_remove(hold=hold, user=case["boss"], reason="")
        assert LegalHold.objects.get().is_standing

    def test_review_lists_cases_due_within_thirty_days(self, case):
        referral = case["referral"]
        due = _due(referral)
        _, listed = disposal_review(today=due - timedelta(days=31))
        assert listed == []
        _, listed = disposal_review(today=due - timedelta(days=30))
        assert [(c.referral, c.disposal_date) for c in listed] == [(referral, due)]


class TestCoordinatorPages:
    def test_only_coordinators_see_the_retention_page(self, case):
        from tests.conftest import verified_client_for

        referrer = UserFactory(roles=[Role.REFERRER])
        url = "/referrals/retention/"
        assert verified_client_for(referrer).get(url).status_code == 404
        page = verified_client_for(case["boss"]).get(url)
        assert page.status_code == 200

    def test_due_case_listed_held_and_released_through_the_pages(self, case):
        from audit.models import AuditEvent
        from tests.conftest import verified_client_for

        referral, boss = case["referral"], case["boss"]
        # Move the closure back so the case falls due in ten days.
        closed = timezone.now() - timedelta(days=730 - 10)
        Referral.objects.filter(pk=referral.pk).update(closed_at=closed)
        client = verified_client_for(boss)
        page = client.get("/referrals/retention/").content.decode()
        assert referral.reference in page and "Place a legal hold" in page
        assert AuditEvent.objects.filter(
            action="read", detail__page="retention"
        ).exists()

        hold_url = f"/referrals/{referral.reference}/legal-hold/"
        refused = client.post(hold_url, {"reason": ""})
        body = refused.content.decode()
        assert "There is a problem" in body
        assert "Enter why the case must be kept" in body
        later = timezone.localdate() + timedelta(days=60)
        response = client.post(
            hold_url,
            {
                "reason": "Inquest pending",
                "review_date_0": later.day,
                "review_date_1": later.month,
                "review_date_2": later.year,
            },
        )
        assert response.status_code == 302
        hold = LegalHold.objects.get(referral=referral)
        assert hold.placed_by == boss and hold.review_date == later
        assert AuditEvent.objects.filter(action="referral.legal_hold_placed").exists()
        page = client.get("/referrals/retention/").content.decode()
        assert "Inquest pending" in page and "On hold" in page

        remove_url = f"/referrals/retention/holds/{hold.pk}/remove/"
        assert (
            "Enter why the hold is no longer needed"
            in client.post(remove_url, {"reason": ""}).content.decode()
        )
        assert client.post(remove_url, {"reason": "Inquest closed"}).status_code == 302
        hold.refresh_from_db()
        assert hold.removed_by == boss and hold.removal_reason == "Inquest closed"
        # Anyone else: no such page.
        other = verified_client_for(UserFactory(roles=[Role.REFERRER]))
        assert other.get(remove_url).status_code == 404
        assert AuditEvent.objects.filter(action="referral.legal_hold_removed").exists()

    def test_tombstones_are_listed_for_coordinators(self, case):
        from tests.conftest import verified_client_for

        retention_apply(authorised_by=BY, today=_due(case["referral"]))
        page = verified_client_for(case["boss"]).get("/referrals/retention/")
        body = page.content.decode()
        assert case["referral"].reference in body
        assert Tombstone.objects.get().content_hash in body
        assert NAME not in body
