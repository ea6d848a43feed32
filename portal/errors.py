"""Error pages that render without a database or a signed-in user."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors: the failure may be in the database they query.
    return HttpResponseServerError(loader.get_template("500.html").render())
