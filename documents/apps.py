import logging

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Shared files"

    def ready(self):
        from . import scanning
        from .checks import limit_pdf_inflation
        from .stored import StoredKind, kind_register

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

        limit_pdf_inflation()
        checks.register(
            scanning.scanner_deploy_check, checks.Tags.security, deploy=True
        )
        if getattr(settings, "CLAMAV_DISABLED", False):
            # An operator's explicit choice: said once at every start, so it is
            # in the service's log and never forgotten.
            logger.warning(scanning.DISABLED_MESSAGE)
