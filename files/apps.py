import logging

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)


class FilesConfig(AppConfig):
    """The domain-free file layer: checks, scanning, private storage, downloads.

    An app so that its start-up checks, the dev_server command and its one
    model (files about to be written) are found. Every app that stores files
    uses it, and it uses no domain app (docs/architecture.md).
    """

    name = "files"
    verbose_name = "Private files"

    def ready(self):
        from . import scanning
        from .checks import limit_pdf_inflation

        limit_pdf_inflation()
        checks.register(
            scanning.scanner_deploy_check, checks.Tags.security, deploy=True
        )
        if getattr(settings, "CLAMAV_DISABLED", False):
            # An operator's explicit choice: said once at every start, so it is
            # in the service's log and never forgotten.
            logger.warning(scanning.DISABLED_MESSAGE)
