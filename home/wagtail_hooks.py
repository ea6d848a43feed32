"""The guidance review report in the Wagtail admin (every guidance page with
its owner and review dates, overdue ones first, filterable to those due), and
the page editor's guard against a create that raced autosave."""

from datetime import timedelta

from django.contrib.admin import SimpleListFilter
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify
from wagtail import hooks
from wagtail.admin.views.pages.edit import EditView
from wagtail_modeladmin.options import modeladmin_register

from portal.modeladmin import PortalModelAdmin

from .models import GuidancePage


class ReviewStateFilter(SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("month", "Due within 30 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(review_by__lt=today)
        if self.value() == "month":
            return queryset.filter(
                review_by__gte=today,
                review_by__lte=today + timedelta(days=30),
            )
        return queryset


class OwnerFilter(SimpleListFilter):
    """Only the people who own a guidance page, not every account."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        owners = get_user_model().objects.filter(
            pk__in=GuidancePage.objects.values("owner_person")
        )
        named = [(str(p.pk), p.get_full_name() or p.get_username()) for p in owners]
        return sorted(named, key=lambda choice: choice[1].lower())

    def queryset(self, request, queryset):
        # Only an owner the filter offers: any other value (letters, a number
        # too large for the database) would fail the query, so it is ignored.
        value = self.value()
        if value in {pk for pk, _ in self.lookup_choices}:
            return queryset.filter(owner_person_id=int(value))
        return queryset


class GuidanceReviewAdmin(PortalModelAdmin):
    model = GuidancePage
    menu_label = "Guidance reviews"
    menu_icon = "date"
    menu_order = 250
    add_to_settings_menu = False
    list_display = ("title", "owner_person", "last_reviewed", "review_by", "state")
    list_filter = (ReviewStateFilter, OwnerFilter)
    # Wagtail keeps each page's history; a second, model-level one would be empty.
    history_view_enabled = False
    ordering = ("review_by", "title")
    search_fields = ("title",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner_person")

    def state(self, obj):
        if not obj.live:
            return "Draft"
        return "Review overdue" if obj.is_stale() else "Up to date"

    state.short_description = "Status"


modeladmin_register(GuidanceReviewAdmin)


# How recently the page must have been made for a second "create" of it to be
# taken as the same person's race with autosave rather than a new page.
AUTOSAVE_RACE_WINDOW = timedelta(minutes=30)


@hooks.register("before_create_page")
def continue_page_made_by_autosave(request, parent_page, page_class):
    """Send a create that lost the race with autosave to the page it made.

    Wagtail's autosave creates the page in the background and only then moves
    the editor onto its edit URL. A "Submit" or "Save" pressed in between posts
    to the create view again: the person was told the slug was in use and an
    orphan draft was left behind. When the same person's own never-published
    page of this type, with this slug, was made here moments ago, the post is
    an edit of that page.
    """
    if request.method != "POST":
        return None
    slug = request.POST.get("slug") or slugify(request.POST.get("title", ""))
    if not slug:
        return None
    made = (
        parent_page.get_children()
        .type(page_class)
        .filter(
            slug=slug,
            owner=request.user,
            first_published_at__isnull=True,
            live=False,
            latest_revision_created_at__gte=timezone.now() - AUTOSAVE_RACE_WINDOW,
        )
        .first()
    )
    if made is None or made.revisions.exclude(user=request.user).exists():
        return None
    return EditView.as_view()(request, page_id=made.pk)
