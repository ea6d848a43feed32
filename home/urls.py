"""The home app's own views, mounted at the site root by portal.urls.

No namespace: templates and the page tree's links call them ``about`` and
``search``.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("about/", views.about, name="about"),
    path("search/", views.search, name="search"),
]
