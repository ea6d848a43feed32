"""The portal's home page: the signed-in partner's starting point."""

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
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
