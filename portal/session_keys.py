"""Every key the portal writes into a person's session, in one place, so no
two features can pick the same name and a reviewer sees all that is kept.

Django's and django-otp's own keys (the signed-in user, the verified device)
are theirs and not listed.
"""

# When the session began and when it was last used: the gate ends it after the
# absolute lifetime or the idle timeout (accounts.middleware).
SESSION_STARTED_KEY = "portal_session_started"
SESSION_SEEN_KEY = "portal_session_seen"
