from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    # This module holds two configs; this one is what "accounts" means.
    default = True
    name = "accounts"
    verbose_name = "Organisations and users"

    def ready(self):
        from portal.post_migrate import connect_once_per_migrate

        from . import receivers  # noqa: F401  (session bookkeeping on login)
        from .roles import roles_sync

        connect_once_per_migrate(roles_sync, dispatch_uid="accounts_roles_sync")

        # Every person picked in Wagtail's admin (page, snippet and modeladmin
        # forms) is shown with their organisation, so namesakes differ.
        from django.conf import settings
        from django.db import models
        from wagtail.admin.forms.models import register_form_field_override

        from .forms import PersonChoiceField

        register_form_field_override(
            models.ForeignKey,
            to=settings.AUTH_USER_MODEL,
            override={"form_class": PersonChoiceField},
        )


class PortalUsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's user admin, with the partner organisation and job title."""

    user_viewset = "accounts.viewsets.PortalUserViewSet"
