"""The portal's home page (the signed-in partner's starting point) and the
meeting resources page."""

from wagtail.admin.panels import FieldPanel
from wagtail.blocks import CharBlock, StructBlock, TextBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page


class HomePage(Page):
    introduction = RichTextField(
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
        help_text="A short welcome shown above each person's own tasks.",
    )

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = "home page"

    def get_context(self, request, *args, **kwargs):
        from accounts.models import Role
        from agreements.models import AgreementIndexPage
        from agreements.selectors import acknowledgements_awaiting, current_versions

        context = super().get_context(request, *args, **kwargs)
        user = request.user
        context["organisation"] = getattr(user, "organisation", None)
        context["awaiting_acknowledgement"] = acknowledgements_awaiting(user)
        context["agreements_index"] = AgreementIndexPage.objects.live().first()
        if user.has_role(Role.COORDINATOR) or user.is_superuser:
            context["overdue_reviews"] = [
                version for version in current_versions() if version.review_overdue()
            ]
        return context


class ResourceBlock(StructBlock):
    """One standing document: the terms of reference, a template, guidance."""

    document = DocumentChooserBlock()
    title = CharBlock(
        required=False, help_text="Leave empty to use the document's own title."
    )
    description = TextBlock(
        required=False, help_text="One or two sentences on when to use it."
    )

    class Meta:
        icon = "doc-full"
        label = "Document"


class MeetingResourcesPage(Page):
    """Standing resources for CMARAC meetings, published by editors.

    Pages are served only to users past the second factor (the one gate).
    The documents themselves go through Wagtail's serve view
    (``WAGTAILDOCS_SERVE_METHOD = "serve_view"``).
    """

    introduction = RichTextField(
        blank=True, features=["bold", "italic", "link", "ol", "ul"]
    )
    body = RichTextField(
        blank=True,
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul"],
        help_text="How meetings run: dates, how to send apologies, who to ask.",
    )
    resources = StreamField(
        [("document", ResourceBlock())],
        blank=True,
        help_text="Terms of reference, templates and guidance, in reading order.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("introduction"),
        FieldPanel("body"),
        FieldPanel("resources"),
    ]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "meeting resources page"
