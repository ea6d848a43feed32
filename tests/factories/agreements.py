"""Build agreement pages and publish versions the way editors and coordinators do."""

import hashlib
from contextlib import contextmanager
from datetime import date

from django.db.models.signals import post_save
from django.test import RequestFactory
from django.utils import timezone
from modelsearch.signal_handlers import post_save_signal_handler
from wagtail.models import Page
from wagtail.signal_handlers import (
    disable_reference_index_auto_update,
    reference_index_auto_update_disabled,
)

from accounts.models import Role, User
from agreements.models import (
    Acknowledgement,
    AgreementIndexPage,
    AgreementVersion,
    ChangeType,
    ProtocolPage,
    SharingAgreementPage,
)
from agreements.services import acknowledgement_record
from audit.chain import chain_append
from home.models import HomePage
from tests.factories import OrganisationFactory, UserFactory

# Case material is shared only with parties to an ISA in force that have
# acknowledged it (docs/features.md, "Agreements"). Tests that are not about
# the agreement get one made for them: every organisation the factory builds
# is a party to this stand-in and has acknowledged it. A test that publishes
# its own ISA (``publish_new``) retires the stand-in and names its parties.
STAND_IN_SLUG = "stand-in-sharing-agreement"
STAND_IN_OFFICER = "stand-in-agreement-officer"


def party_to_stand_in_agreement(organisation) -> None:
    """Make ``organisation`` a party to the stand-in ISA that acknowledged it.

    Versions are append-only, so each new party gets an editorial version
    naming everyone so far (no one else need acknowledge again). Rows are
    written directly, as no person did any of it: no audit events, emails or
    page revisions for tests to trip over.
    """
    if SharingAgreementPage.objects.live().exclude(slug=STAND_IN_SLUG).exists():
        return  # the test publishes its own agreement and names its parties
    latest = (
        AgreementVersion.objects.filter(page__slug=STAND_IN_SLUG)
        .order_by("-major", "-minor")
        .first()
    )
    if latest is not None and not latest.page.live:
        return  # retired by a test that published its own agreement
    # Wagtail's reference index ("usage") and the search index of the
    # stand-in's page and versions serve no test (nobody searches for it);
    # skipping them saves about half the stand-in's cost, which most tests pay
    # once. Organisations are still indexed as they are saved.
    with _reference_index_skipped(), _search_index_skipped(SharingAgreementPage):
        version = _stand_in_version(latest, organisation)
    officer = version.published_by
    chain_append(
        Acknowledgement(
            version=version,
            organisation=organisation,
            organisation_name=organisation.name,
            user=officer,
            username=officer.username,
            signatory_name="Stand-in signatory",
            signatory_role="Head of service",
            content_hash=version.content_hash,
        ),
        lock_key=7_306_210_002,  # the acknowledgement chain's (agreements.services)
        before_hash=lambda ack: setattr(ack, "acknowledged_at", timezone.now()),
    )


@contextmanager
def _reference_index_skipped():
    """Wagtail's switch, which cannot be nested: left alone if already on."""
    if getattr(reference_index_auto_update_disabled, "value", False):
        yield
    else:
        with disable_reference_index_auto_update():
            yield


@contextmanager
def _search_index_skipped(model):
    """The search index's save handler for ``model`` disconnected meanwhile
    (modelsearch indexes each saved page through an immediate task)."""
    disconnected = post_save.disconnect(post_save_signal_handler, sender=model)
    try:
        yield
    finally:
        if disconnected:
            post_save.connect(post_save_signal_handler, sender=model)


def _stand_in_version(latest, organisation) -> AgreementVersion:
    today = timezone.localdate()
    if latest is None:
        officer, _ = User.objects.get_or_create(
            username=STAND_IN_OFFICER,
            defaults={"is_superuser": True, "is_active": False},
        )
        page = SharingAgreementPage(
            title="Stand-in ISA",
            slug=STAND_IN_SLUG,
            reference="ISA-TEST",
            summary="Made by the test factories.",
            responsible_officer=officer,
            date_of_request=today,
            effective_date=today,
            first_review_date=today.replace(year=today.year + 1),
        )
        parent = HomePage.objects.first() or Page.get_first_root_node()
        parent.add_child(instance=page)
        signatories, minor, change = [], 0, ChangeType.MATERIAL
    else:
        page, officer = latest.page, latest.published_by
        signatories, minor = latest.signatories, latest.minor + 1
        change = ChangeType.EDITORIAL
    signatories = [*signatories, {"id": organisation.pk, "name": organisation.name}]
    text = f"Stand-in ISA 1.{minor}: {signatories}"
    return AgreementVersion.objects.create(
        page_id=page.pk,
        kind=SharingAgreementPage._meta.verbose_name,
        title="Stand-in ISA",
        reference="ISA-TEST",
        major=1,
        minor=minor,
        change_type=change,
        published_at=timezone.now(),
        published_by=officer,
        published_by_label=str(officer),
        effective_date=today,
        next_review_date=today.replace(year=today.year + 1),
        review_cycle_months=12,
        responsible_officer_label=str(officer),
        signatories=signatories,
        clauses=[],
        canonical_text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def retire_stand_in_agreement() -> None:
    """A test publishing its own ISA decides the parties itself. Versions and
    acknowledgements are append-only, so the stand-in is taken off the site."""
    page = SharingAgreementPage.objects.filter(slug=STAND_IN_SLUG, live=True).first()
    if page is None:
        return
    page.live = False
    # The save outdates the shared access decisions (portal.freshness).
    page.save(clean=False, update_fields=["live"])


def clause(heading, text, kind="other"):
    return ("clause", {"kind": kind, "heading": heading, "body": f"<p>{text}</p>"})


@contextmanager
def _wagtail_indexes_skipped(searchable: bool):
    """Wagtail's reference index and, unless ``searchable``, the search index
    left alone while agreement pages are published: rewriting both on every
    save was about two fifths of building an agreement, and only the tests
    that search for an agreement's words read either."""
    with _reference_index_skipped():
        if searchable:
            yield
            return
        with (
            _search_index_skipped(AgreementIndexPage),
            _search_index_skipped(ProtocolPage),
            _search_index_skipped(SharingAgreementPage),
        ):
            yield


def agreement_tree(
    *, organisations=None, coordinator=None, effective=None, searchable=False
):
    """A published protocol and an ISA under it, both at version 1.0;
    ``searchable`` puts their pages in the site search index."""
    coordinator = coordinator or UserFactory(
        roles=["Coordinators"], organisation__party=False
    )
    organisations = organisations or [
        OrganisationFactory(party=False) for _ in range(3)
    ]
    effective = effective or date(2026, 1, 6)

    def publish(parent, page, clauses):
        return publish_new(parent, page, organisations, coordinator, effective,
                           clauses, searchable=searchable)  # fmt: skip

    with _wagtail_indexes_skipped(searchable):
        index = HomePage.objects.first().add_child(
            instance=AgreementIndexPage(title="Agreements", slug="agreements")
        )
    protocol = publish(
        index,
        ProtocolPage(title="Protocol", slug="protocol", reference="P-1", summary="S"),
        [clause("Purpose", "Why we share.", "purpose")],
    )
    isa = publish(
        protocol,
        SharingAgreementPage(
            title="CMARAC ISA", slug="isa", reference="ISA-1", summary="S"
        ),
        [
            clause("Purpose", "To keep victims safe.", "purpose"),
            clause("Retention", "Kept for two years after closure.", "retention"),
        ],
    )
    return protocol, isa, organisations, coordinator


def publish_new(
    parent, page, organisations, user, effective, clauses, *, searchable=False
):
    if isinstance(page, SharingAgreementPage):
        retire_stand_in_agreement()
    page.responsible_officer = user
    page.date_of_request = effective
    page.effective_date = effective
    page.first_review_date = effective.replace(year=effective.year + 1)
    page.clauses = clauses
    with _wagtail_indexes_skipped(searchable):
        parent.add_child(instance=page)
        page.signatory_organisations.set(organisations)
        page.save_revision(user=user).publish(user=user)
    return Page.objects.get(pk=page.pk).specific


def publish_change(
    page,
    user,
    *,
    number,
    change_type=ChangeType.MATERIAL,
    edit=None,
    summary="Changed.",
    completes_review=False,
    searchable=False,
):
    """Publish a new version of ``page``; ``edit(draft)`` changes the draft."""
    draft = page.get_latest_revision_as_object()
    draft.next_version = number
    draft.change_type = change_type
    draft.change_summary = summary
    draft.completes_review = completes_review
    if edit is not None:
        edit(draft)
    draft.full_clean()
    with _wagtail_indexes_skipped(searchable):
        draft.save_revision(user=user).publish(user=user)
    return Page.objects.get(pk=page.pk).specific


def signatory_for(organisation):
    return UserFactory(organisation=organisation, roles=[Role.SIGNATORY.value])


def acknowledge(version, organisation, user=None):
    user = user or signatory_for(organisation)
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")
    request.user = user
    return acknowledgement_record(
        request=request,
        version=version,
        organisation=organisation,
        signatory_name=user.get_full_name(),
        signatory_role="Head of service",
    )[0]


def retention_version(*, case_months=24, effective=None, **periods):
    """An editorial version of the stand-in ISA giving retention periods, in
    force from ``effective`` (today): the parties need not acknowledge again.
    Written directly, like the stand-in's other versions."""

    def stand_in():
        return (
            AgreementVersion.objects.filter(page__slug=STAND_IN_SLUG)
            .order_by("-major", "-minor")
            .first()
        )

    latest = stand_in()
    if latest is None:
        OrganisationFactory()  # makes the stand-in, with it as a party
        latest = stand_in()
    effective = effective or timezone.localdate()
    retention = {"case_months": case_months, "shared_file_months": 24,
                 "meeting_months": 24, "audit_years": 6, **periods}  # fmt: skip
    text = f"Stand-in ISA 1.{latest.minor + 1}: {retention}"
    return AgreementVersion.objects.create(
        page_id=latest.page_id,
        kind=SharingAgreementPage._meta.verbose_name,
        title=latest.title,
        reference=latest.reference,
        major=1,
        minor=latest.minor + 1,
        change_type=ChangeType.EDITORIAL,
        published_at=timezone.now(),
        published_by=latest.published_by,
        published_by_label=latest.published_by_label,
        effective_date=effective,
        next_review_date=latest.next_review_date,
        review_cycle_months=12,
        responsible_officer_label=latest.responsible_officer_label,
        signatories=latest.signatories,
        clauses=[],
        retention=retention,
        canonical_text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
