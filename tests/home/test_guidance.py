"""Guidance: GOV.UK blocks, owners and review dates, reminders, the review
report, the superseded-agreement banner and the approval workflow."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from accounts.models import Role, role_group
from home.models import GuidancePage
from home.services import guidance_due, guidance_review_reminders_send
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.agreements import agreement_tree, publish_change
from tests.factories.guidance import guidance, guidance_index

pytestmark = pytest.mark.django_db


def _read(page, user=None):
    client = verified_client_for(user or UserFactory(roles=[Role.REFERRER]))
    response = client.get(page.url)
    assert response.status_code == 200
    return response.content.decode()


class TestPages:
    def test_each_block_renders_as_its_gov_uk_component(self):
        page = guidance(
            body=[
                ("text", "<h2>Refer when</h2><p>The risk is high.</p>"),
                ("warning", {"text": "Call 999 in an emergency."}),
                ("inset", {"text": "<p>An example.</p>"}),
                ("details", {"summary": "Other panels", "content": "<p>MAPPA.</p>"}),
                (
                    "accordion",
                    {"sections": [{"heading": "Before", "content": "<p>Read.</p>"}]},
                ),
            ]
        )
        html = _read(page)
        assert "<h2 data-block-key" in html or "<h2>Refer when</h2>" in html
        assert 'class="govuk-warning-text"' in html
        assert "Call 999 in an emergency." in html
        assert 'class="govuk-inset-text"' in html
        assert '<details class="govuk-details">' in html
        assert 'data-module="govuk-accordion"' in html
        assert "Owner: " in html and "next review due" in html

    def test_the_index_lists_live_guidance_only(self):
        live = guidance(title="Live guidance")
        guidance(title="Unpublished guidance", publish=False)
        html = _read(guidance_index())
        assert "Live guidance" in html
        assert "Unpublished guidance" not in html
        assert live.summary in html

    def test_the_index_lists_only_guidance_the_reader_may_open(self):
        """Page privacy holds in the list too: agency staff are not shown the
        title and summary of guidance kept for coordinators, and a change to
        the page's privacy shows in the (cached) index at once."""
        guidance(title="For everyone")
        hidden = guidance(title="For coordinators", summary="Panel chairing.")
        restriction = PageViewRestriction.objects.create(
            page=hidden, restriction_type=PageViewRestriction.GROUPS
        )
        restriction.groups.set([role_group(Role.COORDINATOR)])
        staff = UserFactory(roles=[Role.REFERRER])
        html = _read(guidance_index(), staff)
        assert "For everyone" in html
        assert "For coordinators" not in html and "Panel chairing." not in html
        html = _read(guidance_index(), UserFactory(roles=[Role.COORDINATOR]))
        assert "For coordinators" in html and "Panel chairing." in html
        restriction.delete()
        assert "For coordinators" in _read(guidance_index(), staff)

    def test_anonymous_people_are_sent_to_sign_in(self, client):
        response = client.get(guidance().url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")

    def test_a_page_kept_for_another_group_sends_to_our_sign_in(self):
        """Wagtail's privacy check asks for a different account through our
        two-step sign-in, never through Wagtail's password-only form."""
        page = guidance(title="For coordinators")
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.GROUPS
        )
        restriction.groups.set([role_group(Role.COORDINATOR)])
        staff = verified_client_for(UserFactory(roles=[Role.REFERRER]))
        response = staff.get(page.url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_the_review_date_must_follow_the_last_review(self):
        page = guidance()
        page.review_by = page.last_reviewed
        with pytest.raises(ValidationError, match="after the last review"):
            page.full_clean()


class TestStaleGuidance:
    def test_overdue_guidance_is_tagged_for_readers(self):
        page = guidance(review_in=-1, reviewed_ago=400)
        assert "Review overdue" in _read(page)
        assert "Review overdue" not in _read(guidance(title="Fresh"))

    def test_owners_are_reminded_once_per_review_date(
        self, django_capture_on_commit_callbacks
    ):
        owner = UserFactory(roles=[Role.EDITOR])
        stale = guidance(owner=owner, review_in=-3, reviewed_ago=400)
        guidance(title="Fresh", owner=owner)
        mail.outbox.clear()
        # The email is queued with the reminder's record and sent once it commits.
        with django_capture_on_commit_callbacks(execute=True):
            assert guidance_review_reminders_send() == 1
        assert mail.outbox[0].to == [owner.email]
        assert stale.title in mail.outbox[0].subject
        assert guidance_review_reminders_send() == 0
        # A new review date that passes in turn brings a new reminder.
        GuidancePage.objects.filter(pk=stale.pk).update(
            review_by=timezone.localdate() - timedelta(days=1)
        )
        assert guidance_review_reminders_send() == 1

    def test_the_admin_report_lists_overdue_guidance_first(self):
        guidance(title="Due later", review_in=60)
        guidance(title="Overdue page", review_in=-5, reviewed_ago=300)
        assert [p.title for p in guidance_due()] == ["Overdue page"]
        coordinator = verified_client_for(UserFactory(roles=[Role.COORDINATOR]))
        url = reverse("home_guidancepage_modeladmin_index")
        html = coordinator.get(url).content.decode()
        assert html.index("Overdue page") < html.index("Due later")
        assert "Review overdue" in html
        html = coordinator.get(url, {"review": "overdue"}).content.decode()
        assert "Overdue page" in html and "Due later" not in html

    def test_the_owner_filter_offers_only_people_who_own_guidance(self):
        owner = UserFactory(roles=[Role.EDITOR], first_name="Ola", last_name="Owner")
        UserFactory(first_name="Nadia", last_name="Nobody")
        guidance(title="Owned page", owner=owner)
        guidance(title="Someone else's page", owner=UserFactory(roles=[Role.EDITOR]))
        coordinator = verified_client_for(UserFactory(roles=[Role.COORDINATOR]))
        url = reverse("home_guidancepage_modeladmin_index")
        html = coordinator.get(url).content.decode()
        assert "Ola Owner" in html and "Nadia Nobody" not in html
        html = coordinator.get(url, {"owner": owner.pk}).content.decode()
        assert "Owned page" in html and "Someone else" not in html

    def test_the_report_has_no_second_page_history(self):
        with pytest.raises(NoReverseMatch):
            reverse("home_guidancepage_modeladmin_history", args=[1])


class TestSupersededAgreements:
    def test_a_page_written_for_an_old_version_points_to_the_current_one(self):
        _, isa, _, coordinator = agreement_tree()
        link = {"agreement": isa, "version": "1.0", "text": ""}
        page = guidance(body=[("agreement", link)])
        assert "has been replaced" not in _read(page)
        publish_change(isa, coordinator, number="2.0")
        html = _read(page)
        assert "This guidance refers to version 1.0 of CMARAC ISA" in html
        assert "Read the current version, 2.0" in html

    def test_a_link_without_a_version_never_goes_stale(self):
        _, isa, _, coordinator = agreement_tree()
        page = guidance(body=[("agreement", {"agreement": isa, "version": "",
                                             "text": "The ISA"})])  # fmt: skip
        publish_change(isa, coordinator, number="2.0")
        html = _read(page)
        assert "has been replaced" not in html
        assert ">The ISA</a>" in html


class TestApproval:
    def test_an_editor_submits_and_a_coordinator_approves(self):
        editor = UserFactory(roles=[Role.EDITOR])
        approver = UserFactory(roles=[Role.COORDINATOR])
        page = guidance(owner=editor, publish=False)
        assert not page.permissions_for_user(editor).can_publish()
        workflow = page.get_workflow()
        assert workflow.name == "Coordinator approval"
        state = workflow.start(page, editor)
        url = reverse(
            "wagtailadmin_pages:workflow_action",
            args=[page.pk, "approve", state.current_task_state.pk],
        )
        response = verified_client_for(approver).post(url, {"comment": ""})
        assert response.status_code in (200, 302)
        assert GuidancePage.objects.get(pk=page.pk).live


class TestPublicLandingPage:
    def test_anyone_can_read_what_the_portal_is_and_how_to_join(self, client):
        response = client.get(reverse("about"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "How to get an account" in html
        assert "single point of contact" in html

    def test_the_sign_in_page_links_to_it(self, client):
        html = client.get(reverse("accounts:login")).content.decode()
        assert f'href="{reverse("about")}"' in html


class TestEditing:
    def test_editors_get_the_guidance_editor_with_every_block(self):
        index = guidance_index()
        editor = verified_client_for(UserFactory(roles=[Role.EDITOR]))
        url = reverse("wagtailadmin_pages:add", args=["home", "guidancepage", index.pk])
        response = editor.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        labels = ["Warning text", "Inset text", "Details (show and hide)"]
        labels += ["Accordion", "Link to an agreement", "Content owner"]
        for label in labels:
            assert label in html, label


def _guidance_form(owner, **changes):
    fields = {
        "title": "Noise diaries",
        "slug": "noise-diaries",
        "summary": "For officers handing out noise diaries.",
        "body": streamfield([("text", rich_text("<p>Ask for two weeks.</p>"))]),
        "owner_person": owner.pk,
        "last_reviewed": "2026-12-01",
        "review_by": "2027-06-01",
    }
    return nested_form_data(fields | changes)


class TestCreateRacingAutosave:
    """Submitting a new page just as autosave created it edits that page."""

    def _add_url(self, index):
        return reverse(
            "wagtailadmin_pages:add", args=["home", "guidancepage", index.pk]
        )

    def _autosave(self, client, url, owner):
        response = client.post(
            url, _guidance_form(owner), HTTP_ACCEPT="application/json"
        )
        assert response.json()["success"]

    def _submit_edits_the_autosaved_page(self, client, url, editor):
        submitted = _guidance_form(editor, summary="Changed after the autosave.")
        response = client.post(url, submitted | {"action-submit": "Submit"})

        assert response.status_code == 302
        page = GuidancePage.objects.get()
        assert page.workflow_in_progress
        assert page.get_latest_revision_as_object().summary == (
            "Changed after the autosave."
        )

    def test_the_submit_goes_to_the_page_autosave_made(self):
        index = guidance_index()
        editor = UserFactory(roles=[Role.EDITOR])
        client = verified_client_for(editor)
        url = self._add_url(index)
        self._autosave(client, url, editor)

        self._submit_edits_the_autosaved_page(client, url, editor)

    def test_a_submit_that_overlapped_the_autosave_edits_its_page(self, monkeypatch):
        """The submit passed the hook before autosave's page existed, then
        found the slug taken while saving (seen once under load in the
        browser journey: the editor got the error page)."""
        from wagtail import hooks
        from wagtail.models import Page

        index = guidance_index()
        editor = UserFactory(roles=[Role.EDITOR])
        client = verified_client_for(editor)
        url = self._add_url(index)
        self._autosave(client, url, editor)
        # Autosave's page appears after the hook and the form's own slug
        # check have looked, before the submit saves.
        real = hooks.get_hooks
        monkeypatch.setattr(
            hooks,
            "get_hooks",
            lambda name: [] if name == "before_create_page" else real(name),
        )
        available = Page._slug_is_available
        looks = []

        def slug_free_at_first_look(slug, parent_page, page=None):
            looks.append(slug)
            return len(looks) == 1 or available(slug, parent_page, page)

        monkeypatch.setattr(
            Page, "_slug_is_available", staticmethod(slug_free_at_first_look)
        )

        self._submit_edits_the_autosaved_page(client, url, editor)

    def test_another_editors_new_page_is_never_taken_over(self):
        index = guidance_index()
        first, second = UserFactory.create_batch(2, roles=[Role.EDITOR])
        url = self._add_url(index)
        self._autosave(verified_client_for(first), url, first)

        response = verified_client_for(second).post(
            url, _guidance_form(second) | {"action-submit": "Submit"}
        )

        assert response.status_code == 200
        assert "already in use" in response.content.decode()
        page = GuidancePage.objects.get()
        assert page.owner == first
        assert not page.workflow_in_progress

    def test_a_published_page_with_the_slug_is_never_taken_over(self):
        index = guidance_index()
        editor = UserFactory(roles=[Role.EDITOR])
        guidance(title="Noise diaries", owner=editor, summary="Published before.")

        response = verified_client_for(editor).post(
            self._add_url(index), _guidance_form(editor) | {"action-submit": "Submit"}
        )

        assert response.status_code == 200
        assert "already in use" in response.content.decode()
        assert GuidancePage.objects.get().summary == "Published before."
