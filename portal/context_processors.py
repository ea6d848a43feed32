from django.conf import settings


def portal(request):
    return {
        "protective_marking": settings.PROTECTIVE_MARKING,
        # Not "site_name": Django's LoginView sets that to the request's host,
        # and a view's context wins over a context processor's.
        "portal_name": settings.WAGTAIL_SITE_NAME,
    }
