from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Shared files"

    def ready(self):
        from files.stored import StoredKind, kind_register

        from . import retention  # noqa: F401  (a disposed case takes its files)

        # Shared files are purged after expiry or recall; the row stays.
        kind_register(
            StoredKind(
                name="shared_file",
                model="documents.SharedFile",
                prefix="shared",
                hash_field="sha256",
                live={"purged_at__isnull": True},
            )
        )
        # Wagtail's documents, written by its own forms: swept and checked.
        kind_register(
            StoredKind(
                name="published_document",
                model="documents.PortalDocument",
                prefix="documents",
                hash_field="file_hash",
                hash_algorithm="sha1",
            )
        )
