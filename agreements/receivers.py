"""Freeze a version whenever an agreement page is published."""

from django.dispatch import receiver
from wagtail.signals import page_published

from accounts.middleware import current_request

from .models import AgreementPage
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
