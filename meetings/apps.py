from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "CMARAC meetings"

    def ready(self):
        from . import receivers  # noqa: F401  (packs follow their referrals)
