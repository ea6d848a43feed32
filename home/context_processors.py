from portal import freshness

NAVIGATION_SECONDS = 300


def navigation(request):
    """The guidance index's address for the service navigation, worked out
    only on pages that show the navigation (signed-in, verified users), and
    shared by every server until pages change (portal.freshness)."""

    def guidance_url() -> str:
        from .models import GuidanceIndexPage

        def build() -> str:
            index = GuidanceIndexPage.objects.live().first()
            return (index.get_url(request) or "") if index else ""

        return freshness.remember(
            ("navigation", "guidance", request.get_host()), build, NAVIGATION_SECONDS
        )

    def case_material_open() -> bool:
        # No menu links into case routes the agreement would refuse
        # (agreements.middleware); the home page says why instead.
        from agreements.selectors import case_material_access

        return case_material_access(request.user).allowed

    return {"guidance_url": guidance_url, "case_material_open": case_material_open}
