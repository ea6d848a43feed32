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

        # Cached pages follow the data they show (portal.freshness). The
        # model signals are connected for the models that feed a cached page
        # only: a post_delete receiver for every model would make Django read
        # every row before deleting it (no model could be deleted in one
        # statement), and send a signal for each row.
        model_signals = {"save": post_save, "delete": post_delete, "m2m": m2m_changed}
        for model in freshness.models_watched(
            apps.get_models(include_auto_created=True)
        ):
            for name, signal in model_signals.items():
                signal.connect(
                    outdate_on_change,
                    sender=model,
                    dispatch_uid=f"portal_freshness_{name}_{model._meta.label_lower}",
                )
        for name, signal in {
            "publish": page_published,
            "unpublish": page_unpublished,
        }.items():
            signal.connect(outdate_on_publish, dispatch_uid=f"portal_freshness_{name}")

        # Wagtail's Site follows DJANGO_BASE_URL (portal.addresses).
        post_migrate.connect(
            default_site_sync,
            sender=apps.get_app_config("wagtailcore"),
            dispatch_uid="portal_default_site_sync",
        )
