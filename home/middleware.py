"""The page editor's second guard against a create that raced autosave.

``home.wagtail_hooks.continue_page_made_by_autosave`` sends a "Submit" that
arrives after autosave made the page to that page's edit view. When the two
requests overlap, the submit passes the hook before autosave's page exists
and then finds its slug taken while saving: Wagtail raises a ValidationError
and the editor got the error page. Here that same case is caught, and the
post goes to the page autosave made, as the hook would have sent it.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from wagtail.models import Page

from .wagtail_hooks import continue_page_made_by_autosave

CREATE_VIEW = "wagtailadmin_pages:add"


class PageCreateRacingAutosaveMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = request.resolver_match
        if (
            request.method != "POST"
            or not isinstance(exception, ValidationError)
            or "slug" not in getattr(exception, "error_dict", {})
            or match is None
            or match.view_name != CREATE_VIEW
        ):
            return None
        app_label, model, parent_id = match.args or (
            match.kwargs.get("content_type_app_name"),
            match.kwargs.get("content_type_model_name"),
            match.kwargs.get("parent_page_id"),
        )
        try:
            page_class = ContentType.objects.get_by_natural_key(
                app_label, model
            ).model_class()
            parent = Page.objects.get(pk=parent_id).specific
        except (ContentType.DoesNotExist, Page.DoesNotExist, ValueError):
            return None
        if page_class is None:
            return None
        return continue_page_made_by_autosave(request, parent, page_class)
