"""Freeze a version whenever an agreement page is published; answer the
audit app's question about how long audit events are kept."""

from django.dispatch import receiver
from wagtail.signals import page_published

from accounts.middleware import current_request
from audit.segments import AuditRetention
from audit.signals import audit_retention_asked

from .models import AgreementPage
from .retention import retention_in_force
from .services import version_publish


@receiver(page_published, dispatch_uid="agreements_version_on_publish")
def freeze_version(sender, instance, revision, **kwargs):
    if not isinstance(instance, AgreementPage):
        return
    request = current_request.get()
    user = None
    if request is not None and request.user.is_authenticated:
        user = request.user
    elif revision is not None:
        user = revision.user
    version_publish(
        page=instance,
        revision_id=revision.pk if revision else None,
        user=user,
        request=request,
    )
    if instance.completes_review:
        _clear_completes_review(instance, revision)


def _clear_completes_review(page, revision):
    """The tick applies to one version: clear it on the live page and on the
    revision later drafts start from, or every later publish would move the
    review date on again."""
    type(page).objects.filter(pk=page.pk).update(completes_review=False)
    if revision is not None:
        revision.content["completes_review"] = False
        revision.save(update_fields=["content"])


@receiver(audit_retention_asked, dispatch_uid="agreements_audit_retention")
def audit_retention_from_the_isa(sender, on, **kwargs):
    """Issue 20: the audit period of the ISA version in force on ``on``
    drives audit sealing; None (the setting applies) when no published
    version gives one."""
    schedule = retention_in_force(on)
    if schedule is None:
        return None
    return AuditRetention(
        years=schedule.audit_years, agreement_version=schedule.version_label
    )
