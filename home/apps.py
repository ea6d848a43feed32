from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = "Home"

    def ready(self):
        from portal.post_migrate import connect_once_per_migrate

        from .permissions import page_permissions_sync

        connect_once_per_migrate(
            page_permissions_sync, dispatch_uid="home_page_permissions"
        )
