from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "rights"
    verbose_name = "Data subject rights"

    def ready(self):
        from files.stored import StoredKind, kind_register

        from . import retention  # noqa: F401  (a disposed case leaves the index)
        from .receivers import receivers_connect

        receivers_connect()
        # Disclosure bundles are private files: swept and checked like the
        # rest. Older versions' files go when the request closes.
        live = {"files_deleted_at__isnull": True}
        kind_register(
            StoredKind(name="sar_bundle_pdf", model="rights.DisclosureBundle",
                       prefix="sar-bundles-pdf", field="pdf", hash_field="pdf_sha256",
                       live=live)
        )  # fmt: skip
        kind_register(
            StoredKind(name="sar_bundle_json", model="rights.DisclosureBundle",
                       prefix="sar-bundles-json", field="json",
                       hash_field="json_sha256", live=live)
        )  # fmt: skip
