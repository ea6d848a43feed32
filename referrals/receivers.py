"""What the referrals app does when something it builds on changes.

An organisation a new ISA version drops may no longer see case material: its
shares of every case end when the version is published (docs/features.md).

A referral section saved just after the person's session ended for
inactivity is kept in their draft, as autosave would have kept it, so
signing in again brings them back to what they typed (docs/security.md,
"Sessions").
"""

from django.dispatch import receiver
from django.http import Http404
from django.urls import Resolver404, resolve

from accounts.signals import form_posted_after_timeout
from agreements.selectors import case_material_access
from agreements.signals import organisations_dropped
from portal.forms import contains_null_character

from .models import ReferralShare


@receiver(organisations_dropped, dispatch_uid="referrals.shares_end_on_isa_drop")
def shares_end_when_dropped(sender, version, organisation_ids, **kwargs):
    from .services import referral_shares_end

    referral_shares_end(
        shares=ReferralShare.objects.filter(organisation_id__in=organisation_ids),
        reason=f"No longer a party to the information sharing agreement "
        f"({version.reference} version {version.number})",
    )


@receiver(form_posted_after_timeout, dispatch_uid="referrals.section_kept_on_timeout")
def section_kept_on_timeout(sender, request, user, **kwargs) -> str | None:
    """Keep a referral section posted after the session ended; returns the
    section's title, or None when the post was not a section of this
    person's own open draft (or could not be kept)."""
    from . import selectors
    from .answers import raw_from_post
    from .forms import SECTIONS_BY_SLUG
    from .services import DraftConflict, ReferralRefused, draft_save

    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.view_name != "referrals:section":
        return None
    current = SECTIONS_BY_SLUG.get(match.kwargs["slug"])
    # The same rules as the section page: case material open to this person,
    # and only a draft they own that is not yet submitted.
    if current is None or not case_material_access(user).allowed:
        return None
    try:
        draft = selectors.draft_for(user, match.kwargs["draft_id"])
    except Http404:
        return None
    raw = raw_from_post(request.POST)
    if draft.is_submitted or contains_null_character(raw):
        return None
    revision = request.POST.get("revision", "")
    try:
        draft_save(
            draft=draft,
            section=current,
            raw=raw,
            user=user,
            request=request,
            autosave=True,
            revision=int(revision) if revision.isdigit() else None,
        )
    except (DraftConflict, ReferralRefused):
        # Saved in another window since, or submitted: that version stands.
        return None
    return current.title
