"""The decorator that referral, meeting and document views put on case material."""

from functools import wraps

from django.shortcuts import render

from .selectors import case_material_access


def case_material(view):
    """Refuse case material to an organisation whose ISA acknowledgement is overdue.

    The page says why, and who at the organisation can acknowledge it.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        decision = case_material_access(request.user)
        if not decision.allowed:
            return render(
                request,
                "agreements/access_suspended.html",
                {"decision": decision},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped
