"""Running calls at the same moment, each on its own thread and connection."""

import threading

from django.db import connections


def at_once(calls):
    """Run each ``(function, kwargs)`` in its own thread, released together."""
    results, errors = [], []
    barrier = threading.Barrier(len(calls))

    def run(function, kwargs):
        try:
            barrier.wait()
            results.append(function(**kwargs))
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors
