from django.http import HttpResponse
from django.urls import path

from portal.access import public
from portal.urls import handler404, handler500
from portal.urls import urlpatterns as portal_urlpatterns


@public
def ok(request):
    """The ceiling: the cheapest response the same server can give."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok/", ok), *portal_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
