"""The guidance review report in the Wagtail admin: every guidance page with
its owner and review dates, overdue ones first, filterable to those due."""

from datetime import timedelta

from django.contrib.admin import SimpleListFilter
from django.utils import timezone
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


class GuidanceReviewAdmin(PortalModelAdmin):
    model = GuidancePage
    menu_label = "Guidance reviews"
    menu_icon = "date"
    menu_order = 250
    add_to_settings_menu = False
    list_display = ("title", "owner_person", "last_reviewed", "review_by", "state")
    list_filter = (ReviewStateFilter, "owner_person")
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
