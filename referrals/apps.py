from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        from files.stored import StoredKind, kind_register

        from . import receivers  # noqa: F401  (shares end when an ISA drops a party)

        kind_register(
            StoredKind(
                name="referral_attachment",
                model="referrals.ReferralAttachment",
                prefix="referrals",
                hash_field="sha256",
            )
        )
