from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = "Home"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .permissions import page_permissions_sync

        post_migrate.connect(
            page_permissions_sync, dispatch_uid="home_page_permissions"
        )
