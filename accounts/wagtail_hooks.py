"""Admin screens: partner organisations, account requests from single points
of contact, and resetting a user's second factor."""

from django.contrib.admin import display as admin_display
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.widgets import Button
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.options import modeladmin_register

from audit.exports import SafeExportIndexView
from audit.readonly import ReadOnlyPermissionHelper
from portal.forms import refusal_status
from portal.modeladmin import PortalModelAdmin

from .audit_actions import AccountAction
from .forms import AccountRequestDecisionForm
from .models import (
    AccountRequest,
    IdentityProvider,
    Organisation,
    RequestStatus,
    User,
)
from .services import (
    GovernanceRefused,
    account_request_approve,
    account_request_reject,
    devices_remove,
    username_suggested,
)


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


class SuperusersManage(PermissionHelper):
    """Only administrators set up sign-in through an agency's provider: it
    decides who may sign in as that agency's staff."""

    def _may(self, user):
        return user.is_active and user.is_superuser

    def user_can_list(self, user):
        return self._may(user)

    def user_can_inspect_obj(self, user, obj):
        return False

    def user_can_create(self, user):
        return self._may(user)

    def user_can_edit_obj(self, user, obj):
        return self._may(user)

    def user_can_delete_obj(self, user, obj):
        return self._may(user)


class IdentityProviderAdmin(PortalModelAdmin):
    model = IdentityProvider
    menu_label = "Identity providers"
    menu_icon = "key"
    menu_order = 205
    permission_helper_class = SuperusersManage
    history_view_enabled = False
    list_display = ("organisation", "issuer", "enabled", "mfa_claim")
    list_filter = ("enabled",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")


modeladmin_register(IdentityProviderAdmin)


class AdministratorsOnly(ReadOnlyPermissionHelper):
    """Requests are born on a contact's screen and decided on their own page."""

    def user_may_read(self, user):
        return user.is_active and user.is_superuser


class AccountRequestAdmin(PortalModelAdmin):
    model = AccountRequest
    menu_label = "Account requests"
    menu_icon = "user"
    menu_order = 210
    permission_helper_class = AdministratorsOnly
    history_view_enabled = False
    inspect_view_enabled = True
    list_display = ("requested_at", "organisation", "role", "status", "decide_link")
    list_filter = ("status", "organisation")
    inspect_view_fields = (
        "organisation",
        "requested_by",
        "requested_at",
        "first_name",
        "last_name",
        "email",
        "job_title",
        "role",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
        "user",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")

    @admin_display(description="Decision")
    def decide_link(self, obj):
        if obj.status != RequestStatus.PENDING:
            return obj.get_status_display()
        url = reverse("accounts_account_request_decide", args=[obj.pk])
        return format_html('<a href="{}">Approve or reject</a>', url)


modeladmin_register(AccountRequestAdmin)


def account_request_decide(request, pk):
    """An administrator approves (the account is made and its holder
    invited) or rejects a contact's request."""
    if not request.user.is_superuser:
        raise PermissionDenied
    account_request = get_object_or_404(
        AccountRequest.objects.select_related("organisation", "requested_by"), pk=pk
    )
    initial = {}
    if account_request.status == RequestStatus.PENDING:
        initial["username"] = username_suggested(account_request)
    form = AccountRequestDecisionForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                person = account_request_approve(
                    account_request=account_request,
                    administrator=request.user,
                    username=form.cleaned_data["username"],
                )
                messages.success(
                    request, f"Account {person.username} made; they have been invited."
                )
            else:
                account_request_reject(
                    account_request=account_request,
                    administrator=request.user,
                    note=form.cleaned_data["note"],
                )
                messages.success(request, "Request rejected; the contact is told.")
        except GovernanceRefused as refusal:
            form.add_error(refusal.field, str(refusal))
        else:
            return redirect(AccountRequestAdmin().url_helper.index_url)
    return render(
        request,
        "accounts/admin/account_request_decide.html",
        {"account_request": account_request, "form": form},
        status=refusal_status(form),
    )


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
        ),
        path(
            "account-requests/<int:pk>/decide/",
            account_request_decide,
            name="accounts_account_request_decide",
        ),
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
