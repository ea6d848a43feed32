"""The disclosure bundle, built in the background (django-tasks).

Rendering a bundle's PDF takes seconds per record (docs/benchmarks.md,
"Subject access bundles"): too long for a web request behind a proxy's
timeout. The officer's post records the request and queues this task
(``rights.sar.sar_bundle_request``); the request's page says the bundle is
being prepared until it is built.
"""

from django_tasks import task


@task()
def build_sar_bundle(sar_id: int, version: int) -> int | None:
    """Build version ``version`` of the request's bundle, as asked for, and
    tell the officer who asked. Safe to run again: a version already built
    is kept and not built twice. Returns the bundle's id, or None when
    nothing was built (refused, or no longer asked for)."""
    from .sar import sar_bundle_build_requested

    bundle = sar_bundle_build_requested(sar_id=sar_id, version=version)
    return bundle.pk if bundle else None
