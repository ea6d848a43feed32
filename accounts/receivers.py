"""Session bookkeeping: start times on login, ending sessions on deactivation."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import pre_save
from django.dispatch import receiver

from portal.session_keys import SESSION_SEEN_KEY, SESSION_STARTED_KEY

from .models import User
from .services import user_sessions_end


@receiver(user_logged_in, dispatch_uid="accounts_session_started")
def stamp_session(sender, request, user, **kwargs):
    now = int(time.time())
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_SEEN_KEY] = now


@receiver(pre_save, sender=User, dispatch_uid="accounts_deactivation_ends_sessions")
def end_sessions_on_deactivation(sender, instance, **kwargs):
    if instance.pk is None or instance.is_active:
        return
    stored = (
        User.objects.filter(pk=instance.pk, is_active=True)
        .values_list("session_epoch", flat=True)
        .first()
    )
    if stored is not None:  # it was active until this save
        instance.session_epoch = stored + 1


@receiver(user_logged_out, dispatch_uid="accounts_logout_ends_sessions")
def end_sessions_on_logout(sender, request, user, **kwargs):
    # Signing out anywhere signs the user out everywhere.
    if user is not None:
        user_sessions_end(user=user)
