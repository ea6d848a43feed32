from django.conf import settings


def portal(request):
    return {
        "protective_marking": settings.PROTECTIVE_MARKING,
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
