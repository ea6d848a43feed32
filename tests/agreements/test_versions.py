"""Publishing freezes immutable versions; changes are compared clause by clause."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from agreements.models import AgreementVersion, ChangeType
from agreements.selectors import version_diff
from agreements.services import add_months
from audit.models import AuditEvent
from portal.dates import long_date
from tests.conftest import verified_client_for
from tests.factories.agreements import agreement_tree, publish_change

pytestmark = pytest.mark.django_db


def _retention_to(text):
    def edit(draft):
        data = list(draft.clauses.raw_data)
        for item in data:
            if item["value"]["heading"] == "Retention":
                item["value"]["body"] = f"<p>{text}</p>"
        draft.clauses = data

    return edit


class TestPublishing:
    def test_publishing_freezes_version_one(self):
        _, isa, organisations, coordinator = agreement_tree()
        version = AgreementVersion.objects.get(page_id=isa.pk)
        assert version.number == "1.0"
        assert version.published_by == coordinator
        assert version.signatory_ids == {o.pk for o in organisations}
        assert "Kept for two years after closure." in version.canonical_text
        assert version.content_hash == version.compute_content_hash()
        assert [c["heading"] for c in version.clauses] == ["Purpose", "Retention"]
        assert (
            AuditEvent.objects.filter(action="agreement.version_published").count() == 2
        )

    def test_a_new_version_never_alters_an_earlier_one(self):
        _, isa, _, coordinator = agreement_tree()
        first = AgreementVersion.objects.get(page_id=isa.pk)
        frozen = (first.canonical_text, first.content_hash, first.clauses)
        publish_change(
            isa, coordinator, number="1.1", edit=_retention_to("Kept a year.")
        )
        first.refresh_from_db()
        assert (first.canonical_text, first.content_hash, first.clauses) == frozen
        second = isa.latest_version
        assert second.number == "1.1"
        assert second.content_hash != first.content_hash
        assert not first.is_current and second.is_current

    def test_the_database_refuses_to_change_a_version(self):
        _, isa, _, _ = agreement_tree()
        version = isa.latest_version
        with pytest.raises(DatabaseError), transaction.atomic():
            AgreementVersion.objects.filter(pk=version.pk).update(canonical_text="x")
        with pytest.raises(DatabaseError), transaction.atomic():
            AgreementVersion.objects.filter(pk=version.pk).delete()

    def test_version_number_must_go_up(self):
        _, isa, _, coordinator = agreement_tree()
        draft = isa.get_latest_revision_as_object()
        draft.next_version = "1.0"
        draft.change_summary = "Again"
        with pytest.raises(ValidationError, match="already published"):
            draft.full_clean()

    def test_a_change_summary_is_needed_after_the_first_version(self):
        _, isa, _, _ = agreement_tree()
        draft = isa.get_latest_revision_as_object()
        draft.next_version = "2.0"
        draft.change_summary = ""
        with pytest.raises(ValidationError, match="Say what changed"):
            draft.full_clean()

    def test_badly_formed_version_number_is_explained(self):
        _, isa, _, _ = agreement_tree()
        draft = isa.get_latest_revision_as_object()
        draft.next_version = "v2"
        with pytest.raises(ValidationError, match="like 1.0, 1.1 or 2.0"):
            draft.full_clean()


class TestReviewDates:
    def test_completing_the_review_counts_from_the_intended_date(self):
        _, isa, _, coordinator = agreement_tree(effective=date(2026, 1, 6))
        first = isa.latest_version
        assert first.next_review_date == date(2027, 1, 6)
        # Reviewed late, in March: the next review is still January 2028.
        isa = publish_change(
            isa,
            coordinator,
            number="1.1",
            change_type=ChangeType.EDITORIAL,
            completes_review=True,
        )
        assert isa.latest_version.next_review_date == date(2028, 1, 6)

    def test_the_review_tick_applies_to_one_version_only(self):
        _, isa, _, coordinator = agreement_tree(effective=date(2026, 1, 6))
        isa = publish_change(isa, coordinator, number="1.1", completes_review=True)
        assert not isa.completes_review
        assert not isa.get_latest_revision_as_object().completes_review
        draft = isa.get_latest_revision_as_object()
        draft.next_version = "1.2"
        draft.change_summary = "Typo."
        draft.save_revision(user=coordinator).publish(user=coordinator)
        assert isa.latest_version.next_review_date == date(2028, 1, 6)

    def test_an_ordinary_change_keeps_the_review_date(self):
        _, isa, _, coordinator = agreement_tree(effective=date(2026, 1, 6))
        isa = publish_change(isa, coordinator, number="1.1")
        assert isa.latest_version.next_review_date == date(2027, 1, 6)

    @pytest.mark.parametrize(
        ("start", "months", "expected"),
        [
            (date(2026, 1, 31), 1, date(2026, 2, 28)),
            (date(2026, 11, 15), 3, date(2027, 2, 15)),
            (date(2024, 2, 29), 12, date(2025, 2, 28)),
        ],
    )
    def test_adding_months(self, start, months, expected):
        assert add_months(start, months) == expected


class TestClauseDiff:
    def test_changed_clause_shows_removed_and_added_words(self):
        _, isa, _, coordinator = agreement_tree()
        old = isa.latest_version
        isa = publish_change(
            isa, coordinator, number="2.0", edit=_retention_to("Kept for one year.")
        )
        changes = {c.heading: c for c in version_diff(old, isa.latest_version)}
        assert changes["Purpose"].change == "unchanged"
        retention = changes["Retention"]
        assert retention.change == "changed"
        assert "<del>two years after closure.</del>" in retention.diff_html
        assert "<ins>one year.</ins>" in retention.diff_html
        assert retention.diff_html.startswith("Kept for ")

    def test_added_and_removed_clauses_are_matched_by_id(self):
        _, isa, _, coordinator = agreement_tree()
        old = isa.latest_version

        def swap(draft):
            data = [
                c for c in draft.clauses.raw_data if c["value"]["heading"] != "Purpose"
            ]
            data.append(
                {
                    "type": "clause",
                    "value": {
                        "kind": "security",
                        "heading": "Security",
                        "body": "<p>Locked.</p>",
                    },
                }  # fmt: skip
            )
            draft.clauses = data

        isa = publish_change(isa, coordinator, number="1.1", edit=swap)
        changes = {c.heading: c.change for c in version_diff(old, isa.latest_version)}
        assert changes == {
            "Retention": "unchanged",
            "Security": "added",
            "Purpose": "removed",
        }

    def test_diff_escapes_clause_text(self):
        _, isa, _, coordinator = agreement_tree()
        old = isa.latest_version
        isa = publish_change(
            isa, coordinator, number="1.1", edit=_retention_to("&lt;script&gt;x")
        )
        retention = next(
            c for c in version_diff(old, isa.latest_version) if c.heading == "Retention"
        )
        assert "<script>" not in retention.diff_html


class TestInForceFrom:
    """A new version is in force from when it is published, not from the
    date the first version came into force."""

    def test_a_new_version_is_in_force_from_the_day_it_is_published(self, client):
        _, isa, _, coordinator = agreement_tree(effective=date(2026, 1, 6))
        isa = publish_change(isa, coordinator, number="1.1", edit=_retention_to("3y"))
        version = isa.latest_version
        assert version.effective_date == timezone.localdate()
        first = AgreementVersion.objects.get(page_id=isa.pk, minor=0)
        assert first.effective_date == date(2026, 1, 6)

    def test_a_later_date_chosen_for_the_new_version_is_kept(self):
        # Relative to today, so the first review (a year after the agreement
        # took effect) always falls after the later date chosen here.
        effective = timezone.localdate() - timedelta(days=60)
        _, isa, _, coordinator = agreement_tree(effective=effective)
        later = timezone.localdate() + timedelta(days=30)

        def edit(draft):
            _retention_to("3y")(draft)
            draft.effective_date = later

        isa = publish_change(isa, coordinator, number="1.1", edit=edit)
        assert isa.latest_version.effective_date == later

    def test_the_agreement_page_shows_the_new_versions_date(self):
        _, isa, _, coordinator = agreement_tree(effective=date(2026, 1, 6))
        isa = publish_change(isa, coordinator, number="1.1", edit=_retention_to("3y"))
        client = verified_client_for(coordinator)
        page = client.get(isa.url).content.decode()
        row = re.search(r"In force from</dt><dd[^>]*>([^<]*)<", page).group(1)
        assert row == long_date(timezone.localdate())
