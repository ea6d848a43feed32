from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "CMARAC meetings"

    def ready(self):
        from files.stored import StoredKind, kind_register

        from . import (
            receivers,  # noqa: F401  (packs follow their referrals)
            retention,  # noqa: F401  (a disposed case leaves meetings)
        )

        kind_register(
            StoredKind(name="meeting_pack", model="meetings.MeetingPack",
                       prefix="meeting-packs")
        )  # fmt: skip
