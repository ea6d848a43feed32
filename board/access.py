"""Who sees the board's statistics: board members and coordinators.

Board members see these counts and nothing else: they are not referrers, so
``User.works_on_cases`` keeps every case, meeting and shared-file page empty
for them (docs/security.md, "The board role").
"""

from functools import wraps

from django.shortcuts import render

from accounts.models import Role
from audit.models import Outcome
from audit.services import audit_record

from .audit_actions import BoardAction


def sees_board_statistics(user) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.has_role(Role.BOARD) or user.has_role(Role.COORDINATOR)
    )


def board_only(view):
    """403 with a plain page, audited, for anyone else."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not sees_board_statistics(request.user):
            audit_record(
                action=BoardAction.REFUSED,
                request=request,
                outcome=Outcome.DENIED,
                detail={"route": request.resolver_match.view_name, "status": 403},
            )
            return render(request, "board/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
