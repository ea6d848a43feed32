"""The disclosure bundle is built in the background: the officer's post
returns to the request's page at once, saying the bundle is being prepared;
the task builds it, once however often it is asked for or rerun, and tells
the officer who asked. A failed build says so on the page, with a button to
try again, and stores nothing."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from audit.models import AuditEvent
from files.stored import StorageUnavailable, kind_for
from jobs.models import OutgoingEmail
from jobs.recovery import stuck_tasks_requeue
from notices.models import Notice, NoticeKind
from rights.models import (
    DisclosureBundle,
    Exemption,
    ItemDecision,
    SarStatus,
    SubjectAccessRequest,
)
from rights.sar import (
    sar_bundle_request,
    sar_item_review,
    sar_items_add,
    sar_open,
    sar_status_set,
)
from rights.tasks import build_sar_bundle
from tests.concurrency import at_once
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.referrals import person
from tests.factories.referrals import submitted_referral as submitted

pytestmark = pytest.mark.django_db

PREPARING = "The bundle is being prepared. Refresh this page in a minute."
PRODUCE = "Produce the bundle</button>"
TRY_AGAIN = "Try again</button>"
DUMMY_QUEUE = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
FAKE_PDF = b"%PDF-1.7\n% a stand-in: the bundle's content is tested in test_sar\n"


NAME = "Philippa Brackenbury"
OTHER = "Horatio Quilliam"  # named in her case: a third party


@pytest.fixture
def officer():
    return UserFactory(
        roles=[Role.DPO], organisation=OrganisationFactory(), email="dpo@example.org"
    )


@pytest.fixture
def colleague(officer):
    """A second data protection officer."""
    return UserFactory(roles=[Role.DPO], organisation=officer.organisation)


@pytest.fixture
def cases():
    """Her two cases, and a third she is not in."""
    return [
        submitted(people=[person(0, name=NAME),
                          person(1, role="causing_harm", name=OTHER)]),
        submitted(people=[person(0, name=NAME)]),
        submitted(people=[person(0, name="Euphemia Stonehouse")]),
    ]  # fmt: skip


def _reviewed_sar(officer, cases):
    """A request with her two cases in it, each reviewed: disclose, with the
    other party's name hidden."""
    sar = sar_open(user=officer, requester_name=NAME,
                   received_on=timezone.localdate())  # fmt: skip
    items = sar_items_add(sar=sar, user=officer,
                          records=[("referral", c.pk) for c in cases[:2]])  # fmt: skip
    for item in items:
        sar_item_review(item=item, user=officer, decision=ItemDecision.DISCLOSE,
                        third_party_names=OTHER)  # fmt: skip
    return sar, items


@pytest.fixture
def queued(settings):
    """A queue that keeps tasks without running them, as the worker would
    until it gets to them."""
    settings.TASKS = DUMMY_QUEUE
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


@pytest.fixture
def quick_pdf(monkeypatch):
    """Rendering takes seconds; the tests here are about when it happens."""
    rendered = []

    def render(template, context):
        rendered.append(context["bundle"]["version"])
        return FAKE_PDF

    monkeypatch.setattr("rights.sar.render_pdf", render)
    return rendered


def _post(client, sar, capture):
    with capture(execute=True):
        return client.post(reverse("rights:sar_bundle", args=[sar.pk]))


def _page(client, sar) -> str:
    response = client.get(reverse("rights:sar", args=[sar.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _builds(backend) -> list[tuple]:
    return [
        tuple(result.args)
        for result in backend.results
        if result.task.func is build_sar_bundle.func
    ]


def _run(backend):
    """The worker's turn: run what is queued, in order."""
    for sar_id, version in _builds(backend):
        build_sar_bundle.call(sar_id, version)
    backend.clear()


class TestAskingForABundle:
    def test_the_post_returns_at_once_and_the_page_says_it_is_being_prepared(
        self, officer, cases, queued, quick_pdf, django_capture_on_commit_callbacks
    ):
        sar, items = _reviewed_sar(officer, cases)
        client = verified_client_for(officer)
        response = _post(client, sar, django_capture_on_commit_callbacks)
        assert response.status_code == 302
        assert response.url == reverse("rights:sar", args=[sar.pk])
        # Queued, not built: nothing was rendered inside the request.
        assert _builds(queued) == [(sar.pk, 1)]
        assert quick_pdf == [] and not sar.bundles.exists()
        page = _page(client, sar)
        assert "Bundle version 1 requested." in page
        assert PREPARING in page and PRODUCE not in page
        requested = AuditEvent.objects.get(action="rights.sar_bundle_requested")
        assert requested.actor == officer
        assert requested.detail["version"] == 1
        assert requested.detail["count"] == len(items)

        _run(queued)
        page = _page(client, sar)
        assert PREPARING not in page and PRODUCE in page
        bundle = sar.bundles.get()
        assert bundle.version == 1 and bundle.built_by == officer
        assert reverse("rights:sar_bundle_download",
                       args=[sar.pk, bundle.public_id, "pdf"]) in page  # fmt: skip
        sar.refresh_from_db()
        assert sar.status == SarStatus.READY
        built = AuditEvent.objects.get(action="rights.sar_bundle_built")
        assert built.actor == officer and built.detail["sha256"] == bundle.pdf_sha256

    def test_the_officer_who_asked_is_told_it_is_ready_without_names(
        self, officer, colleague, cases, queued, quick_pdf,
        django_capture_on_commit_callbacks,
    ):  # fmt: skip
        sar, _ = _reviewed_sar(officer, cases)
        _post(verified_client_for(officer), sar, django_capture_on_commit_callbacks)
        _run(queued)
        notice = Notice.objects.get(kind=NoticeKind.SAR_BUNDLE)
        assert notice.recipient == officer
        assert notice.title == f"Disclosure bundle ready: {sar.reference}, version 1"
        assert notice.link == reverse("rights:sar", args=[sar.pk])
        assert not Notice.objects.filter(recipient=colleague).exists()
        email = OutgoingEmail.objects.get(to=officer.email)
        for text in (email.subject, email.body, notice.title):
            assert NAME not in text and "Brackenbury" not in text and OTHER not in text
        # What's new lists it.
        page = verified_client_for(officer).get(reverse("notices:index"))
        assert notice.title in page.content.decode()

    def test_a_double_click_or_a_second_officer_queues_one_build(
        self, officer, colleague, cases, queued, quick_pdf,
        django_capture_on_commit_callbacks,
    ):  # fmt: skip
        sar, _ = _reviewed_sar(officer, cases)
        client = verified_client_for(officer)
        _post(client, sar, django_capture_on_commit_callbacks)
        _post(client, sar, django_capture_on_commit_callbacks)
        second = verified_client_for(colleague)
        response = _post(second, sar, django_capture_on_commit_callbacks)
        assert _builds(queued) == [(sar.pk, 1)]
        assert (
            AuditEvent.objects.filter(action="rights.sar_bundle_requested").count() == 1
        )
        page = second.get(response.url).content.decode()
        assert "Bundle version 1 was already requested: it is being prepared." in page
        _run(queued)
        assert list(sar.bundles.values_list("version", flat=True)) == [1]
        # Asked for again once built: the next version.
        assert sar_bundle_request(sar=sar, user=colleague).version == 2

    def test_unreviewed_items_are_still_refused_at_once_and_nothing_is_queued(
        self, officer, cases, queued
    ):
        sar, _ = _reviewed_sar(officer, cases)
        [item] = sar_items_add(sar=sar, user=officer,
                               records=[("referral", cases[2].pk)])  # fmt: skip
        response = verified_client_for(officer).post(
            reverse("rights:sar_bundle", args=[sar.pk])
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "govuk-error-summary" in page
        assert f'href="#item-{item.pk}"' in page
        assert PREPARING not in page
        assert _builds(queued) == []
        sar.refresh_from_db()
        assert sar.bundle_requested_version == 0


@pytest.mark.django_db(transaction=True)
def test_officers_asking_at_the_same_moment_queue_one_build(
    officer, colleague, cases, queued
):
    """Real transactions on separate connections: the request's row lock
    (SQLite: IMMEDIATE write transactions) lets one of them queue."""
    sar, _ = _reviewed_sar(officer, cases)
    results, errors = at_once(
        [(sar_bundle_request, {"sar": sar, "user": user})
         for user in (officer, colleague, officer)]
    )  # fmt: skip
    assert errors == []
    assert sorted(r.queued for r in results) == [False, False, True]
    assert {r.version for r in results} == {1}
    assert AuditEvent.objects.filter(action="rights.sar_bundle_requested").count() == 1


class TestAtBuildTime:
    def test_a_review_changed_after_asking_is_in_the_bundle(
        self, officer, cases, queued, quick_pdf
    ):
        """The bundle is the request as it stands when the build starts."""
        sar, items = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)
        sar_item_review(item=items[0], user=officer, decision=ItemDecision.WITHHOLD,
                        exemption=Exemption.CRIME)  # fmt: skip
        build_sar_bundle.call(sar.pk, 1)
        bundle = sar.bundles.get()
        assert bundle.items[0]["decision"] == ItemDecision.WITHHOLD
        content = json.loads(bundle.json.open("rb").read())
        assert content["version"] == 1
        assert content["items"][0]["withheld"].startswith("[withheld: exemption")

    def test_an_item_added_after_asking_fails_the_build_visibly(
        self, officer, cases, queued, quick_pdf
    ):
        sar, _ = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)
        [item] = sar_items_add(sar=sar, user=officer,
                               records=[("referral", cases[2].pk)])  # fmt: skip
        assert build_sar_bundle.call(sar.pk, 1) is None
        assert not sar.bundles.exists() and quick_pdf == []
        page = _page(verified_client_for(officer), sar)
        assert "Bundle version 1 could not be produced." in page
        assert f"Review {item.title} before producing a bundle." in page
        assert TRY_AGAIN in page and PREPARING not in page
        failed = AuditEvent.objects.get(action="rights.sar_bundle_failed")
        assert failed.detail["reason"] == "refused" and failed.actor == officer

    def test_a_request_closed_while_queued_stays_closed(
        self, officer, cases, queued, quick_pdf
    ):
        sar, _ = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)
        sar_status_set(sar=sar, user=officer, status=SarStatus.CLOSED)
        assert build_sar_bundle.call(sar.pk, 1) is None
        sar.refresh_from_db()
        assert sar.status == SarStatus.CLOSED and not sar.bundles.exists()
        page = _page(verified_client_for(officer), sar)
        assert TRY_AGAIN not in page and PREPARING not in page

    def test_a_request_closed_while_its_pdf_is_rendered_stays_closed(
        self, officer, cases, queued, monkeypatch
    ):
        sar, _ = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)

        def render_while_closed(template, context):
            sar_status_set(sar=sar, user=officer, status=SarStatus.CLOSED)
            return FAKE_PDF

        monkeypatch.setattr("rights.sar.render_pdf", render_while_closed)
        assert build_sar_bundle.call(sar.pk, 1) is None
        sar.refresh_from_db()
        assert sar.status == SarStatus.CLOSED and not sar.bundles.exists()
        failed = AuditEvent.objects.get(action="rights.sar_bundle_failed")
        assert failed.detail["reason"] == "refused"


class TestFailure:
    def test_a_renderer_error_is_shown_with_try_again_and_retry_works(
        self, officer, cases, monkeypatch, django_capture_on_commit_callbacks
    ):
        # The test settings' immediate backend: the build runs in the post.
        def broken(template, context):
            raise RuntimeError("renderer crashed")

        monkeypatch.setattr("rights.sar.render_pdf", broken)
        sar, _ = _reviewed_sar(officer, cases)
        client = verified_client_for(officer)
        _post(client, sar, django_capture_on_commit_callbacks)
        page = _page(client, sar)
        assert "Bundle version 1 could not be produced." in page
        assert "Something went wrong while producing it, and nothing was stored" in page
        assert TRY_AGAIN in page and PREPARING not in page
        assert not DisclosureBundle.objects.exists()
        failed = AuditEvent.objects.get(action="rights.sar_bundle_failed")
        assert failed.detail == {
            "reference": sar.reference, "status": SarStatus.REVIEWING,
            "version": 1, "reason": "error",
        }  # fmt: skip
        assert Notice.objects.get(recipient=officer).title == (
            f"Disclosure bundle could not be produced: {sar.reference}, version 1"
        )

        monkeypatch.setattr("rights.sar.render_pdf", lambda t, c: FAKE_PDF)
        _post(client, sar, django_capture_on_commit_callbacks)
        page = _page(client, sar)
        assert "could not be produced" not in page and PRODUCE in page
        assert sar.bundles.get().version == 1
        assert Notice.objects.filter(recipient=officer).count() == 2

    def test_a_storage_error_leaves_no_file_behind(
        self, officer, cases, queued, quick_pdf, monkeypatch
    ):
        from files import stored

        written = []

        def write(instance, field_name, content, **kwargs):
            if field_name == "json":
                raise StorageUnavailable("The file store is not answering")
            written.append(stored.object_write(instance, field_name, content))
            return written[-1]

        monkeypatch.setattr("rights.sar.object_write", write)
        sar, _ = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)
        with pytest.raises(StorageUnavailable):
            build_sar_bundle.call(sar.pk, 1)
        [pdf_name] = written
        assert not kind_for(DisclosureBundle, "pdf").storage.exists(pdf_name)
        assert not DisclosureBundle.objects.exists()
        sar.refresh_from_db()
        assert sar.bundle_failure and sar.bundle_state(0) == "failed"
        failed = AuditEvent.objects.get(action="rights.sar_bundle_failed")
        assert failed.detail["reason"] == "storage"


class TestRerun:
    def test_running_the_build_again_makes_no_second_version(
        self, officer, cases, queued, quick_pdf
    ):
        sar, _ = _reviewed_sar(officer, cases)
        sar_bundle_request(sar=sar, user=officer)
        first = build_sar_bundle.call(sar.pk, 1)
        assert build_sar_bundle.call(sar.pk, 1) == first
        assert quick_pdf == [1]
        assert list(sar.bundles.values_list("version", flat=True)) == [1]
        assert AuditEvent.objects.filter(action="rights.sar_bundle_built").count() == 1
        assert Notice.objects.filter(kind=NoticeKind.SAR_BUNDLE).count() == 1

    @pytest.mark.parametrize(
        "committed", [False, True], ids=["killed-rendering", "killed-after-commit"]
    )
    def test_a_build_whose_worker_was_killed_is_requeued_and_built_once(
        self, officer, cases, quick_pdf, settings, committed,
        django_capture_on_commit_callbacks,
    ):  # fmt: skip
        settings.TASKS = DATABASE_QUEUE
        settings.TASKS_STUCK_AFTER_SECONDS = 1800
        sar, _ = _reviewed_sar(officer, cases)
        with django_capture_on_commit_callbacks(execute=True):
            sar_bundle_request(sar=sar, user=officer)
        row = DBTaskResult.objects.get(task_path="rights.tasks.build_sar_bundle")
        row.claim("worker-that-was-killed")
        if committed:  # it stored the bundle, then died before saying so
            build_sar_bundle.call(sar.pk, 1)
        DBTaskResult.objects.filter(pk=row.pk).update(
            started_at=row.started_at - timedelta(hours=1)
        )
        page = _page(verified_client_for(officer), sar)
        assert (PREPARING in page) is not committed

        assert stuck_tasks_requeue() == {"failed": 1, "enqueued": 1}
        rerun = DBTaskResult.objects.exclude(pk=row.pk).get(
            task_path="rights.tasks.build_sar_bundle"
        )
        rerun.task.call(*rerun.args_kwargs["args"])
        assert list(sar.bundles.values_list("version", flat=True)) == [1]
        assert quick_pdf == [1]
        assert Notice.objects.filter(kind=NoticeKind.SAR_BUNDLE).count() == 1
        assert PREPARING not in _page(verified_client_for(officer), sar)


def test_a_request_destroyed_before_its_build_is_let_go(officer, cases, queued):
    sar, _ = _reviewed_sar(officer, cases)
    sar_bundle_request(sar=sar, user=officer)
    SubjectAccessRequest.objects.filter(pk=sar.pk).delete()
    assert build_sar_bundle.call(sar.pk, 1) is None
