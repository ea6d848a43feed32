"""Every key the portal writes into a person's session, in one place, so no
two features can pick the same name and a reviewer sees all that is kept.

Django's and django-otp's own keys (the signed-in user, the verified device)
are theirs and not listed.
"""

# When the session began and when it was last used: the gate ends it after the
# absolute lifetime or the idle timeout (accounts.middleware).
SESSION_STARTED_KEY = "portal_session_started"
SESSION_SEEN_KEY = "portal_session_seen"

# A case-page form the service refused (which form, the reason, what was
# typed), kept across the redirect back to the case page.
REFERRAL_REFUSAL_KEY = "referral_refusal"


def meeting_agenda_key(meeting_id: int) -> str:
    """An agenda form the service refused, kept across the redirect back to
    the meeting page, one per meeting."""
    return f"meetings.agenda.{meeting_id}"
