from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notifications"

    def ready(self):
        from accounts.backends import PER_REQUEST_ANNOTATIONS

        from . import receivers  # noqa: F401 (connects the signal receivers)
        from .selectors import UNREAD_ON_USER, unread_count_expression

        # The header's unread count comes with the person, in one query.
        PER_REQUEST_ANNOTATIONS[UNREAD_ON_USER] = unread_count_expression
