from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "rights"
    verbose_name = "Data subject rights"

    def ready(self):
        from . import retention  # noqa: F401  (a disposed case leaves the index)
        from .receivers import receivers_connect

        receivers_connect()
