from django.utils.functional import SimpleLazyObject


def navigation(request):
    """The guidance index for the service navigation, looked up only on pages
    that show the navigation (signed-in, verified users)."""

    def guidance_index():
        from .models import GuidanceIndexPage

        return GuidanceIndexPage.objects.live().first()

    return {"guidance_index": SimpleLazyObject(guidance_index)}
