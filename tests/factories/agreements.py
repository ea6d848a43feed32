"""Build agreement pages and publish versions the way editors and coordinators do."""

from datetime import date

from django.test import RequestFactory
from wagtail.models import Page

from accounts.models import Role
from agreements.models import (
    AgreementIndexPage,
    ChangeType,
    ProtocolPage,
    SharingAgreementPage,
)
from agreements.services import acknowledgement_record
from home.models import HomePage
from tests.factories import OrganisationFactory, UserFactory


def clause(heading, text, kind="other"):
    return ("clause", {"kind": kind, "heading": heading, "body": f"<p>{text}</p>"})


def agreement_tree(*, organisations=None, coordinator=None, effective=None):
    """A published protocol and an ISA under it, both at version 1.0."""
    coordinator = coordinator or UserFactory(roles=["Coordinators"])
    organisations = organisations or [OrganisationFactory() for _ in range(3)]
    effective = effective or date(2026, 1, 6)
    index = HomePage.objects.first().add_child(
        instance=AgreementIndexPage(title="Agreements", slug="agreements")
    )
    protocol = publish_new(
        index,
        ProtocolPage(title="Protocol", slug="protocol", reference="P-1", summary="S"),
        organisations,
        coordinator,
        effective,
        [clause("Purpose", "Why we share.", "purpose")],
    )
    isa = publish_new(
        protocol,
        SharingAgreementPage(
            title="CMARAC ISA", slug="isa", reference="ISA-1", summary="S"
        ),
        organisations,
        coordinator,
        effective,
        [
            clause("Purpose", "To keep victims safe.", "purpose"),
            clause("Retention", "Kept for two years after closure.", "retention"),
        ],
    )
    return protocol, isa, organisations, coordinator


def publish_new(parent, page, organisations, user, effective, clauses):
    page.responsible_officer = user
    page.date_of_request = effective
    page.effective_date = effective
    page.first_review_date = effective.replace(year=effective.year + 1)
    page.clauses = clauses
    parent.add_child(instance=page)
    page.signatory_organisations.set(organisations)
    page.save_revision(user=user).publish(user=user)
    return Page.objects.get(pk=page.pk).specific


def publish_change(page, user, *, number, change_type=ChangeType.MATERIAL, edit=None,
                   summary="Changed.", completes_review=False):  # fmt: skip
    """Publish a new version of ``page``; ``edit(draft)`` changes the draft."""
    draft = page.get_latest_revision_as_object()
    draft.next_version = number
    draft.change_type = change_type
    draft.change_summary = summary
    draft.completes_review = completes_review
    if edit is not None:
        edit(draft)
    draft.full_clean()
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
