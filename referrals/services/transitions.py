"""The screening workflow as data: where each status may go next, and for
each status a referral can be moved to, what the coordinator must say, which
of it the referral keeps, and what else the move does. ``referral_transition``
reads these tables and has no rule of its own about any one status."""

from dataclasses import dataclass, field

from ..models import EventKind, Status

# Where each status may go next.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    # Withdrawing is the referring agency's move (``referral_withdraw``),
    # open only until screening starts.
    Status.SUBMITTED: (Status.SCREENING, Status.WITHDRAWN),
    Status.SCREENING: (
        Status.INFORMATION_REQUESTED,
        Status.ACCEPTED,
        Status.REDIRECTED,
        Status.DECLINED,
    ),
    Status.INFORMATION_REQUESTED: (Status.SCREENING,),
    Status.ACCEPTED: (Status.CLOSED,),
    Status.REDIRECTED: (),
    Status.DECLINED: (),
    Status.CLOSED: (),
    Status.WITHDRAWN: (),
}

# The texts the status form posts, each with how the case history shows it,
# in the history's order: every move may say why (``reason``); the others
# belong to particular moves.
TEXTS = {
    "redirected_to": "Redirected to: ",
    "reason": "",
    "feedback": "Feedback to the referrer: ",
}


@dataclass(frozen=True)
class Arrival:
    """The rules for moving a referral to one status.

    ``takes``: the texts this move uses; the others are dropped, since one
    form posts every text and a panel typed before choosing another outcome
    must not reach the history of, say, an accepted referral.
    ``required``: text -> the refusal when it is blank, checked in this order.
    ``kept``: text -> the referral field it is stored in.
    ``ends_shares``: the reason recorded on the case's shares, which end
    (docs/features.md, "Who sees what"); "" for a case that stays open.
    """

    takes: tuple[str, ...] = ("reason",)
    required: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    event: EventKind = EventKind.TRANSITION
    tells_referrer: bool = False  # emailed that there is news (and no more)
    needs_free_text_review: bool = False  # a flagged case's free text checked
    ends_shares: str = ""
    # Made by the referring agency's staff, never from the screening form.
    by_referring_agency: bool = False


ARRIVALS: dict[str, Arrival] = {
    Status.SCREENING: Arrival(),
    Status.INFORMATION_REQUESTED: Arrival(
        required={"reason": "Enter what information you need"},
        event=EventKind.INFORMATION_REQUESTED,
        tells_referrer=True,
    ),
    Status.ACCEPTED: Arrival(tells_referrer=True, needs_free_text_review=True),
    Status.REDIRECTED: Arrival(
        takes=("reason", "redirected_to"),
        required={
            "reason": "Enter why the case belongs with that panel",
            "redirected_to": "Enter which panel the case is redirected to",
        },
        kept={"reason": "outcome_reason", "redirected_to": "redirected_to"},
        tells_referrer=True,
        ends_shares="The case was redirected to another panel",
    ),
    Status.DECLINED: Arrival(
        required={"reason": "Enter why the referral is declined"},
        kept={"reason": "outcome_reason"},
        tells_referrer=True,
        ends_shares="The referral was declined",
    ),
    Status.CLOSED: Arrival(
        takes=("reason", "feedback"),
        required={
            "reason": "Enter why the case is closing",
            "feedback": "Enter the feedback for the referrer",
        },
        kept={"reason": "outcome_reason", "feedback": "feedback"},
        tells_referrer=True,
        ends_shares="The case was closed",
    ),
    Status.WITHDRAWN: Arrival(
        required={"reason": "Enter why you are withdrawing the referral"},
        kept={"reason": "outcome_reason"},
        ends_shares="The referring agency withdrew the referral",
        by_referring_agency=True,
    ),
}

# Derived, for the case page's hints and the daily job.
NEEDS_REASON = {
    status: arrival.required["reason"]
    for status, arrival in ARRIVALS.items()
    if "reason" in arrival.required
}
# Outcomes that end the case's shares.
CLOSING = tuple(status for status, arrival in ARRIVALS.items() if arrival.ends_shares)


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def screening_next(status: str) -> tuple[str, ...]:
    """The moves a coordinator makes from ``status`` (the screening form)."""
    return tuple(
        target
        for target in allowed_next(status)
        if not ARRIVALS[target].by_referring_agency
    )
