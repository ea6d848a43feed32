"""The person index follows its records: a save rewrites the record's rows,
a delete removes them (``rights.services``).

Writes that skip signals (``bulk_create``, ``QuerySet.update``) are caught by
the nightly rebuild (``manage.py rebuild_person_index``). A referral's people
rows are made with ``bulk_create`` at submission, but the index reads the
people from the referral's answers, saved in the same transaction, so a new
case is found at once.
"""

from functools import partial

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from portal.derived import derived_work

from .services import record_index, record_unindex
from .sources import SOURCES, Source

# A referral saved with only these fields changed holds no new mention: a
# status change does not rewrite its rows.
REFERRAL_FIELDS_NOT_INDEXED = frozenset(
    {"status", "status_changed_at", "closed_at", "urgent", "risk_level",
     "sharing_without_consent_approved_at", "sharing_without_consent_approved_by"}
)  # fmt: skip


def _on_save(source: Source):
    def receiver(sender, instance, raw=False, update_fields=None, **kwargs):
        if raw:  # loaddata: the nightly rebuild indexes it
            return
        if update_fields and set(update_fields) <= REFERRAL_FIELDS_NOT_INDEXED:
            return
        _index(source, instance.pk)

    return receiver


def _index(source: Source, record_id) -> None:
    """Rewrite the record's rows now, or once at the end of a service's merged
    block (portal.derived), whatever number of saves asked for it."""
    derived_work(
        ("rights.index", source.key, record_id),
        partial(record_index, source=source, record_id=record_id),
    )


def _on_delete(source: Source):
    def receiver(sender, instance, **kwargs):
        record_unindex(source=source, record_id=instance.pk)

    return receiver


def _deleted_with(origin, model_label: str) -> bool:
    """Whether a delete started from a ``model_label`` row (or a queryset of
    them): the row that follows it is going too, so nothing is re-read."""
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return getattr(model, "_meta", None) is not None and (
        model._meta.label_lower == model_label
    )


def _on_follower_change(source: Source, attribute: str):
    def receiver(sender, instance, raw=False, origin=None, **kwargs):
        if raw or (origin is not None and _deleted_with(origin, source.label)):
            return
        record_id = getattr(instance, attribute, None)
        if record_id is not None:
            _index(source, record_id)

    return receiver


_RECEIVERS = []  # kept alive: the signals hold weak references


def receivers_connect() -> None:
    for source in SOURCES:
        for signal, make in ((post_save, _on_save), (post_delete, _on_delete)):
            receiver = make(source)
            _RECEIVERS.append(receiver)
            signal.connect(
                receiver,
                sender=source.model,
                dispatch_uid=f"rights.{signal is post_save}.{source.key}",
            )
        for model, attribute in source.followers:
            receiver = _on_follower_change(source, attribute)
            _RECEIVERS.append(receiver)
            for signal in (post_save, post_delete):
                signal.connect(
                    receiver,
                    sender=model,
                    dispatch_uid=f"rights.{signal is post_save}.{model}",
                )
