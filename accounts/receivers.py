"""Session bookkeeping (start times on login, ending sessions on
deactivation), and one audit event for every change to an account."""

import time

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from audit.services import audit_record
from portal.session_keys import SESSION_SEEN_KEY, SESSION_STARTED_KEY

from .audit_actions import IdentityProviderChange, OrganisationChange, UserChange
from .changes import change_source
from .models import IdentityProvider, Organisation, User
from .services import user_sessions_end

# How an administrator (a superuser, not a group) is named in "roles".
ADMINISTRATOR = "Administrator"


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


# --- Every account change in the audit chain --------------------------------
# One event per change, written from the save or group change itself, so the
# admin, the single point of contact's screens, jobs and commands are covered
# alike; accounts.changes says who made it. Events hold ids, never names.

_USER_TRACKED = ("is_active", "organisation_id", "is_superuser")
_ORGANISATION_TRACKED = ("active", "single_point_of_contact_id")


def _stored(model, instance, fields, update_fields) -> dict | None:
    """The tracked fields as stored before this save, or None when the save
    cannot change them (a new row, a fixture, or other fields only)."""
    if instance.pk is None:
        return None
    if update_fields is not None:
        names = {f.removesuffix("_id") for f in update_fields}
        if not names & {f.removesuffix("_id") for f in fields}:
            return None
    return model.objects.filter(pk=instance.pk).values(*fields).first()


def _record(action, obj, detail) -> None:
    source = change_source()
    audit_record(
        action=action,
        request=source.request,
        actor=source.actor,
        obj=obj,
        detail={**detail, "via": source.via},
    )


@receiver(pre_save, sender=User, dispatch_uid="accounts_user_change_before")
def user_before_save(sender, instance, raw, update_fields, **kwargs):
    before = None if raw else _stored(User, instance, _USER_TRACKED, update_fields)
    instance._change_before = before
    if before and instance.is_active and not before["is_active"]:
        # Active again: the suspension is over (its event stays in the log).
        instance.suspended_at = None
        instance.suspension_reason = ""
        instance.suspension_note = ""


@receiver(post_save, sender=User, dispatch_uid="accounts_user_change_after")
def user_after_save(sender, instance, created, raw, **kwargs):
    before = instance.__dict__.pop("_change_before", None)
    if raw:
        return
    if created:
        detail = {"organisation": instance.organisation_id}
        if instance.is_superuser:
            detail["roles"] = [ADMINISTRATOR]
        _record(UserChange.CREATED, instance, detail)
        return
    if before is None:
        return
    if before["organisation_id"] != instance.organisation_id:
        _record(
            UserChange.ORGANISATION_CHANGED,
            instance,
            {"from": before["organisation_id"], "to": instance.organisation_id},
        )
    if before["is_superuser"] != instance.is_superuser:
        action = (
            UserChange.ROLES_ADDED
            if instance.is_superuser
            else (UserChange.ROLES_REMOVED)
        )
        _record(action, instance, {"roles": [ADMINISTRATOR]})
    if before["is_active"] != instance.is_active:
        if instance.is_active:
            _record(UserChange.ACTIVATED, instance, {})
        elif instance.suspension_reason:
            _record(
                UserChange.SUSPENDED, instance, {"reason": instance.suspension_reason}
            )
        else:
            _record(UserChange.DEACTIVATED, instance, {})


@receiver(post_delete, sender=User, dispatch_uid="accounts_user_deleted")
def user_deleted(sender, instance, **kwargs):
    _record(UserChange.DELETED, instance, {"organisation": instance.organisation_id})


@receiver(
    m2m_changed, sender=User.groups.through, dispatch_uid="accounts_roles_changed"
)
def roles_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Roles given or taken away, from either side (``user.groups`` or
    ``group.user_set``); a removal counts only roles actually held."""
    if action in ("pre_remove", "pre_clear"):
        held = sender.objects.filter(
            **({"group": instance} if reverse else {"user": instance})
        )
        if pk_set is not None:
            held = held.filter(
                **({"user__in": pk_set} if reverse else {"group__in": pk_set})
            )
        instance._roles_leaving = list(held.values_list("user_id", "group_id"))
        return
    if action in ("post_remove", "post_clear"):
        pairs = instance.__dict__.pop("_roles_leaving", [])
        event = UserChange.ROLES_REMOVED
    elif action == "post_add" and pk_set:
        pairs = [
            (instance.pk, pk) if not reverse else (pk, instance.pk) for pk in pk_set
        ]
        event = UserChange.ROLES_ADDED
    else:
        return
    names = dict(
        Group.objects.filter(pk__in={g for _, g in pairs}).values_list("pk", "name")
    )
    by_user: dict[int, list[str]] = {}
    for user_id, group_id in pairs:
        by_user.setdefault(user_id, []).append(names.get(group_id, str(group_id)))
    for user_id, roles in sorted(by_user.items()):
        person = instance if not reverse else User(pk=user_id)
        _record(event, person, {"roles": sorted(roles)})


@receiver(pre_save, sender=Organisation, dispatch_uid="accounts_org_change_before")
def organisation_before_save(sender, instance, raw, update_fields, **kwargs):
    instance._change_before = (
        None
        if raw
        else _stored(Organisation, instance, _ORGANISATION_TRACKED, update_fields)
    )


@receiver(post_save, sender=Organisation, dispatch_uid="accounts_org_change_after")
def organisation_after_save(sender, instance, created, raw, **kwargs):
    before = instance.__dict__.pop("_change_before", None)
    if raw:
        return
    if created:
        detail = {"organisation": instance.pk}
        if instance.single_point_of_contact_id:
            detail["to"] = instance.single_point_of_contact_id
        _record(OrganisationChange.CREATED, instance, detail)
        return
    if before is None:
        return
    if before["active"] != instance.active:
        action = (
            OrganisationChange.ACTIVATED
            if instance.active
            else OrganisationChange.DEACTIVATED
        )
        _record(action, instance, {"organisation": instance.pk})
    if before["single_point_of_contact_id"] != instance.single_point_of_contact_id:
        _record(
            OrganisationChange.CONTACT_CHANGED,
            instance,
            {
                "organisation": instance.pk,
                "from": before["single_point_of_contact_id"],
                "to": instance.single_point_of_contact_id,
            },
        )


def _provider_settings(provider) -> dict:
    """What an identity provider is set to, for telling a change from a save
    that changed nothing (the admin saves every field)."""
    return {
        field.attname: getattr(provider, field.attname)
        for field in IdentityProvider._meta.concrete_fields
    }


@receiver(pre_save, sender=IdentityProvider, dispatch_uid="accounts_provider_before")
def identity_provider_before(sender, instance, raw, **kwargs):
    if raw or instance.pk is None:
        return
    stored = IdentityProvider.objects.filter(pk=instance.pk).first()
    instance._settings_before = _provider_settings(stored) if stored else None


@receiver(post_save, sender=IdentityProvider, dispatch_uid="accounts_provider_saved")
def identity_provider_saved(sender, instance, created, raw, **kwargs):
    if raw:
        return
    before = getattr(instance, "_settings_before", None)
    if not created and before == _provider_settings(instance):
        return
    action = (
        IdentityProviderChange.CREATED if created else IdentityProviderChange.CHANGED
    )
    _record(action, instance, {"organisation": instance.organisation_id})


@receiver(
    post_delete, sender=IdentityProvider, dispatch_uid="accounts_provider_deleted"
)
def identity_provider_deleted(sender, instance, **kwargs):
    _record(
        IdentityProviderChange.DELETED,
        instance,
        {"organisation": instance.organisation_id},
    )
