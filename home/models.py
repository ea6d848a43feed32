"""The portal's home page (the signed-in partner's starting point), the
meeting resources page and guidance."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.blocks import (
    CharBlock,
    ListBlock,
    PageChooserBlock,
    RegexBlock,
    RichTextBlock,
    StructBlock,
    TextBlock,
)
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .selectors import pages_open_to


class HomePage(Page):
    introduction = RichTextField(
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
        help_text="A short welcome shown above each person's own tasks.",
    )

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    # Each person's own tasks: kept for that person alone, for a minute, and
    # dropped by any change to the portal's data (portal.page_cache).
    shared_page_cache = True
    page_cache_personal = True

    class Meta:
        verbose_name = "home page"

    def get_context(self, request, *args, **kwargs):
        from .dashboard import dashboard_html

        context = super().get_context(request, *args, **kwargs)
        context["organisation"] = getattr(request.user, "organisation", None)
        context["dashboard"] = dashboard_html(request.user)
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

    # Read far more than changed, the same for everyone with the same roles:
    # served from the shared page cache (portal.page_cache).
    shared_page_cache = True

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
    # Site search finds words in the page and in its resources' titles and
    # descriptions; search lists it only for readers its view restriction
    # admits (home.selectors.pages_open_to).
    search_fields = [
        *Page.search_fields,
        index.SearchField("introduction"),
        index.SearchField("body"),
        index.SearchField("resources"),
    ]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "meeting resources page"


# Guidance ---------------------------------------------------------------------


class WarningTextBlock(StructBlock):
    """GOV.UK warning text: something people must not get wrong."""

    text = TextBlock(help_text="One or two sentences. Starts with what to do.")

    class Meta:
        icon = "warning"
        label = "Warning text"
        template = "home/blocks/warning_text.html"


class InsetTextBlock(StructBlock):
    """GOV.UK inset text: a quote, an example or an aside."""

    text = RichTextBlock(features=["bold", "italic", "link"])

    class Meta:
        icon = "openquote"
        label = "Inset text"
        template = "home/blocks/inset_text.html"


class DetailsBlock(StructBlock):
    """GOV.UK details: help that only some readers need, shown on demand."""

    summary = CharBlock(help_text="The link text, for example 'Help with consent'.")
    content = RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "help"
        label = "Details (show and hide)"
        template = "home/blocks/details.html"


class AccordionSectionBlock(StructBlock):
    heading = CharBlock()
    content = RichTextBlock(features=["h3", "bold", "italic", "link", "ol", "ul"])


class AccordionBlock(StructBlock):
    """GOV.UK accordion: several sections people open one at a time."""

    sections = ListBlock(AccordionSectionBlock())

    class Meta:
        icon = "list-ul"
        label = "Accordion"
        template = "home/blocks/accordion.html"


class AgreementLinkBlock(StructBlock):
    """A link to an agreement, optionally to one version of it. If that version
    is later replaced, the page shows a banner pointing to the current one."""

    agreement = PageChooserBlock(
        page_type=["agreements.ProtocolPage", "agreements.SharingAgreementPage"]
    )
    version = RegexBlock(
        regex=r"^\d+\.\d+$",
        required=False,
        help_text="The version this guidance was written for, like 2.0. "
        "Leave empty to link to whatever is current.",
        error_messages={"invalid": "Enter a version number like 2.0"},
    )
    text = CharBlock(required=False, help_text="Link text. Defaults to the title.")

    class Meta:
        icon = "link"
        label = "Link to an agreement"
        template = "home/blocks/agreement_link.html"


GUIDANCE_BLOCKS = [
    (
        "text",
        RichTextBlock(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"]),
    ),
    ("warning", WarningTextBlock()),
    ("inset", InsetTextBlock()),
    ("details", DetailsBlock()),
    ("accordion", AccordionBlock()),
    ("document", ResourceBlock()),
    ("agreement", AgreementLinkBlock()),
]


class GuidanceIndexPage(Page):
    """The list of guidance, newest review first."""

    # Read far more than changed, the same for everyone with the same roles:
    # served from the shared page cache (portal.page_cache).
    shared_page_cache = True

    introduction = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.GuidancePage"]
    max_count = 1

    class Meta:
        verbose_name = "guidance index page"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        guidance = GuidancePage.objects.live().child_of(self).order_by("title")
        context["guidance"] = pages_open_to(request, guidance)
        return context


class GuidancePage(Page):
    """A page of guidance for partner staff, with an owner who keeps it right."""

    # Read far more than changed, the same for everyone with the same roles:
    # served from the shared page cache (portal.page_cache).
    shared_page_cache = True

    summary = models.CharField(
        max_length=300, help_text="One sentence: who this is for and what it covers."
    )
    body = StreamField(GUIDANCE_BLOCKS)
    owner_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="guidance_owned",
        verbose_name="content owner",
        help_text="Who keeps this guidance right, and is reminded to review it.",
    )
    last_reviewed = models.DateField(help_text="When the owner last checked it.")
    review_by = models.DateField(help_text="When it must be checked again.")
    # The review_by date a reminder was last sent for, so owners get one a round.
    review_reminder_sent_for = models.DateField(null=True, blank=True, editable=False)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("owner_person"),
                FieldPanel("last_reviewed"),
                FieldPanel("review_by"),
            ],
            heading="Ownership and review",
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("review_by"),
    ]
    parent_page_types = ["home.GuidanceIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "guidance page"
        constraints = [
            models.CheckConstraint(
                name="guidance_review_after_last_review",
                condition=models.Q(review_by__gt=models.F("last_reviewed")),
            )
        ]

    def clean(self):
        super().clean()
        if (
            self.review_by
            and self.last_reviewed
            and self.review_by <= self.last_reviewed
        ):
            raise ValidationError(
                {"review_by": "The review date must be after the last review"}
            )

    def is_stale(self, today: date | None = None) -> bool:
        return self.review_by < (today or timezone.localdate())

    def superseded_agreements(self) -> list[dict]:
        """Agreement versions this page links to that have been replaced."""
        from agreements.models import AgreementVersion, parse_version

        wanted = [
            (block.value["agreement"], block.value["version"])
            for block in self.body
            if block.block_type == "agreement"
            and block.value["agreement"]
            and block.value["version"]
        ]
        if not wanted:
            return []
        latest = {}
        for version in (
            AgreementVersion.objects.filter(page_id__in={page.pk for page, _ in wanted})
            .select_related("page")
            .order_by("page_id", "-major", "-minor")
        ):
            latest.setdefault(version.page_id, version)
        stale = []
        for page, number in wanted:
            current = latest.get(page.pk)
            if current and parse_version(number) < (current.major, current.minor):
                stale.append(
                    {"title": current.title, "linked": number, "current": current}
                )
        return stale

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["superseded"] = self.superseded_agreements()
        return context
