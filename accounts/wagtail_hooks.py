"""Admin screens: partner organisations, and resetting a user's second factor."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.widgets import Button
from wagtail_modeladmin.options import modeladmin_register

from audit.exports import SafeExportIndexView
from portal.modeladmin import PortalModelAdmin

from .audit_actions import AccountAction
from .models import Organisation, User
from .services import devices_remove


class OrganisationIndexView(SafeExportIndexView):
    """Names are typed by administrators and the contact is a person: the
    export must not run formulas and is recorded, as every other export."""

    exported_action = AccountAction.ORGANISATIONS_EXPORTED
    list_viewed_action = AccountAction.ORGANISATIONS_LIST_VIEWED
    export_filename = "organisations"


class OrganisationAdmin(PortalModelAdmin):
    model = Organisation
    index_view_class = OrganisationIndexView
    menu_label = "Organisations"
    menu_icon = "group"
    menu_order = 200
    add_to_settings_menu = False
    list_display = ("name", "type", "single_point_of_contact", "active")
    list_filter = ("type", "active")
    search_fields = ("name",)
    list_export = ("name", "type", "single_point_of_contact", "active")
    # modeladmin's history view checks no permission at all: keep it off.
    history_view_enabled = False
    inspect_view_enabled = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("single_point_of_contact")


modeladmin_register(OrganisationAdmin)


def reset_second_factor(request, user_id):
    """An administrator clears a user's authenticator (lost phone)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    person = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        devices_remove(user=person, request=request)
        messages.success(
            request,
            f"Two-factor authentication reset for {person}. They will set up "
            "an authenticator app at their next sign-in.",
        )
        return redirect("wagtailusers_users:index")
    return render(
        request, "accounts/admin/reset_second_factor.html", {"person": person}
    )


@hooks.register("register_admin_urls")
def register_reset_url():
    return [
        path(
            "users/<int:user_id>/reset-two-factor/",
            reset_second_factor,
            name="accounts_reset_second_factor",
        )
    ]


@hooks.register("register_user_listing_buttons")
def reset_second_factor_button(user, request_user):
    if request_user.is_superuser:
        yield Button(
            "Reset two-factor",
            url=reverse("accounts_reset_second_factor", args=[user.pk]),
            icon_name="key",
            priority=60,
        )
