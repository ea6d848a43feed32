"""WSGI entry point; production servers set DJANGO_SETTINGS_MODULE themselves."""

import os

from django.core.wsgi import get_wsgi_application

# A server started without settings gets production ones, which refuse to
# start unconfigured, rather than debug mode with a known key.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()
