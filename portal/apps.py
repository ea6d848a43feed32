from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from wagtail.signals import page_published, page_unpublished

        from .freshness import outdate_on_change, outdate_on_publish

        # Cached pages follow the data they show (portal.freshness).
        signals = {
            "save": post_save, "delete": post_delete, "m2m": m2m_changed,
            "publish": page_published, "unpublish": page_unpublished,
        }  # fmt: skip
        for name, signal in signals.items():
            publishing = name.endswith("publish")
            receiver = outdate_on_publish if publishing else outdate_on_change
            signal.connect(receiver, dispatch_uid=f"portal_freshness_{name}")
