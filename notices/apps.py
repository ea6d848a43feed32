from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notifications"

    def ready(self):
        from . import receivers  # noqa: F401 (connects the signal receivers)
