from django.core.cache import cache

from portal import freshness

NAVIGATION_SECONDS = 300


def navigation(request):
    """The guidance index's address for the service navigation, worked out
    only on pages that show the navigation (signed-in, verified users), and
    shared by every server until pages change (portal.freshness)."""

    def guidance_url() -> str:
        from .models import GuidanceIndexPage

        key = f"navigation:guidance:{freshness.token()}:{request.get_host()}"
        url = cache.get(key)
        if url is None:
            index = GuidanceIndexPage.objects.live().first()
            url = (index.get_url(request) or "") if index else ""
            cache.set(key, url, NAVIGATION_SECONDS)
        return url

    def case_material_open() -> bool:
        # No menu links into case routes the agreement would refuse
        # (agreements.middleware); the home page says why instead.
        from agreements.selectors import case_material_access

        return case_material_access(request.user).allowed

    return {"guidance_url": guidance_url, "case_material_open": case_material_open}
