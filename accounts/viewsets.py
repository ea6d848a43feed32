"""Wagtail's user screens with the fields a partner account needs."""

from django import forms
from wagtail.admin.views.generic import CopyView
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import CreateView, EditView, UserViewSet

from portal.forms import RefusedWithBadRequest, RefusesNullCharacters

from .models import Organisation


class _PartnerFieldsMixin(RefusesNullCharacters, forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.taking_part(),
        required=False,
        help_text="Required for everyone except administrators.",
    )
    job_title = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A person whose organisation has since been made inactive keeps it
        # when their account is saved: the list offers it as their own.
        current = self.instance.organisation_id
        if current:
            field = self.fields["organisation"]
            field.queryset = Organisation.objects.taking_part() | (
                Organisation.objects.filter(pk=current)
            )

    def clean(self):
        cleaned = super().clean()
        # Wagtail leaves "administrator" off the form when administrators
        # edit their own account; they stay one, and need no organisation.
        if "is_superuser" in self.fields:
            superuser = cleaned.get("is_superuser")
        else:
            superuser = self.instance.is_superuser
        if not cleaned.get("organisation") and not superuser:
            self.add_error(
                "organisation", "Choose the organisation this person works for"
            )
        return cleaned


class PartnerUserCreationForm(_PartnerFieldsMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | {"organisation", "job_title"}


class PartnerUserEditForm(_PartnerFieldsMixin, UserEditForm):
    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | {"organisation", "job_title"}


class PortalUserCreateView(RefusedWithBadRequest, CreateView):
    """Wagtail's new-user screen; a refused form answers 400."""


class PortalUserEditView(RefusedWithBadRequest, EditView):
    """Wagtail's user screen; a refused form answers 400."""


class PortalUserCopyView(RefusedWithBadRequest, CopyView):
    """Wagtail's "copy this user" screen, a new-user form filled in from
    another; a refused form answers 400."""


class PortalUserViewSet(UserViewSet):
    add_view_class = PortalUserCreateView
    edit_view_class = PortalUserEditView
    copy_view_class = PortalUserCopyView

    def get_form_class(self, for_update=False):
        return PartnerUserEditForm if for_update else PartnerUserCreationForm
