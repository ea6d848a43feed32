"""Published documents (meeting resources, guidance files) are for verified
partner users only, whatever their collection says, and every download is
audited. Collection privacy (Wagtail's own hook) still applies on top.
"""

from django.http import Http404
from wagtail import hooks

from audit.services import audit_record

from .audit_actions import DocumentAction


def is_verified_partner(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_verified()
        and (user.organisation_id is not None or user.is_superuser)
    )


# Ordered after Wagtail's collection check, so a refused request is not
# audited as a download.
@hooks.register("before_serve_document", order=100)
def partners_only(document, request):
    if not is_verified_partner(request.user):
        # The gate middleware has already sent anyone unverified to sign in;
        # this holds if a route ever escapes it.
        raise Http404("No document found")
    audit_record(
        action=DocumentAction.RESOURCE_DOWNLOADED,
        request=request,
        obj=document,
        detail={"title": document.title, "collection": document.collection_id},
    )
