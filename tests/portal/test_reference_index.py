"""Wagtail's reference index ("usage") holds links between content only.

Every model it tracks is rewritten in the index on each save, through a task.
Models holding people, organisations or case material stay out of it: their
links are nobody's "usage" screen, and copying them would only cost a write
per save. A new model is tracked unless it says otherwise, so this list is
checked: add to it only content an editor's usage screen should show.
"""

from wagtail.models import ReferenceIndex

CONTENT = {
    "agreements.AgreementIndexPage",
    "agreements.AgreementVersion",
    "agreements.ProtocolPage",
    "agreements.SharingAgreementPage",
    "documents.PortalDocument",
    "home.GuidanceIndexPage",
    "home.GuidancePage",
    "home.HomePage",
    "home.MeetingResourcesPage",
    "wagtailcore.Comment",
    "wagtailcore.CommentReply",
    "wagtailcore.Page",
    "wagtailimages.Image",
}


def test_only_content_is_in_wagtails_reference_index():
    tracked = {model._meta.label for model in ReferenceIndex.tracked_models}
    assert tracked <= CONTENT, sorted(tracked - CONTENT)


def test_saving_an_organisation_writes_nothing_to_it(db):
    from tests.factories import OrganisationFactory, UserFactory

    organisation = OrganisationFactory(party=False)
    before = ReferenceIndex.objects.count()
    organisation.single_point_of_contact = UserFactory(organisation=organisation)
    organisation.save()
    assert ReferenceIndex.objects.count() == before
