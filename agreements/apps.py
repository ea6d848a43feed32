from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = "Information sharing agreements"

    def ready(self):
        from . import receivers  # noqa: F401  (a version on every publish; audit period)
