"""Pieces every meetings service uses: the refusal, who may manage meetings
and the meeting lock."""

from accounts.models import Role, User

from ..models import (
    Meeting,
)


class MeetingRefused(Exception):
    """Not allowed; the message says why in plain words."""


def _coordinator(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise MeetingRefused("Only coordinators manage meetings.")


def _locked_meeting(meeting: Meeting, step: str | None = None) -> Meeting:
    """The meeting, locked for this transaction; refused unless ``step`` is
    allowed now (``meetings.models.MEETING_RULES``)."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if step is not None and (refusal := locked.refusal(step)):
        raise MeetingRefused(refusal)
    return locked
