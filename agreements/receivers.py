"""Freeze a version whenever an agreement page is published."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import page_published

from accounts.middleware import current_request

from .models import Acknowledgement, AgreementPage, AgreementVersion
from .selectors import access_decisions_outdated
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


# A new version or acknowledgement can change who may see case material.
for _model in (AgreementVersion, Acknowledgement):
    post_save.connect(
        access_decisions_outdated,
        sender=_model,
        dispatch_uid=f"agreements_access_outdated_{_model.__name__}",
    )
    post_delete.connect(
        access_decisions_outdated,
        sender=_model,
        dispatch_uid=f"agreements_access_outdated_deleted_{_model.__name__}",
    )
