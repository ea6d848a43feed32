from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.core.signals import request_finished, request_started
        from wagtail.signals import page_published, page_unpublished

        from . import freshness, lookups
        from .addresses import default_site_sync
        from .freshness import outdate_on_change, outdate_on_publish

        # Integer ids too large for the database find nothing (portal.lookups).
        lookups.register()

        # Each request reads each token once (portal.freshness.token).
        request_started.connect(
            freshness.request_started, dispatch_uid="portal_freshness_started"
        )
        request_finished.connect(
            freshness.request_finished, dispatch_uid="portal_freshness_finished"
        )

        # Cached pages follow the data they show (portal.freshness).
        signals = {
            "save": post_save, "delete": post_delete, "m2m": m2m_changed,
            "publish": page_published, "unpublish": page_unpublished,
        }  # fmt: skip
        for name, signal in signals.items():
            publishing = name.endswith("publish")
            receiver = outdate_on_publish if publishing else outdate_on_change
            signal.connect(receiver, dispatch_uid=f"portal_freshness_{name}")

        # Wagtail's Site follows DJANGO_BASE_URL (portal.addresses).
        post_migrate.connect(
            default_site_sync,
            sender=apps.get_app_config("wagtailcore"),
            dispatch_uid="portal_default_site_sync",
        )
