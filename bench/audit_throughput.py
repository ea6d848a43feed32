"""Chained audit events per second with many concurrent writers on PostgreSQL.

Each writer is its own process with its own database connection and writes
through ``audit.services.audit_record``, as a request does: one transaction
per event, which inserts the event into the pending table and, when it is the
writer's turn (AUDIT_CHAIN_INTERVAL_MS) and the chain's lock is free, chains
every pending event (docs/audit.md). All writers start together, write for a
fixed time, and report each event's latency. The run then counts the events
still pending, chains them, and checks that the events it wrote chain (link
and HMAC), so a faster design that broke the chain, or left events behind,
would show here.

Prints one JSON line: events/s, p50/p95/p99/max latency in ms, events
written, events chained during the run, those left pending at its end, the
CPU time spent per event (writers, the sequencer and their PostgreSQL
backends: a figure the other work on a shared machine barely moves), the load
average before and after, and whether the chain held.

The worker's audit sequencer (manage.py run_worker) runs beside the writers,
as in production, unless ``--no-sequencer``.

Run (the database is migrated first, and may be reused):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_coherence \
        .venv/bin/python bench/audit_throughput.py [--writers 16] [--seconds 10]
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setup() -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    import django

    django.setup()


def _cpu_seconds(backend_pid: int) -> float:
    """CPU time of this process and of its PostgreSQL backend (same machine):
    unlike events a second, it does not depend on the other work the shared
    machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{backend_pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    backend = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return time.process_time() + backend


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _writer(index: int, seconds: float, barrier, results, cpu) -> None:
    _setup()
    from django.db import connection

    from audit.audit_actions import AuditAction
    from audit.services import audit_record

    connection.ensure_connection()
    backend = _backend_pid()
    latencies = []
    barrier.wait()
    cpu_before = _cpu_seconds(backend)
    ends = time.monotonic() + seconds
    while True:
        started = time.monotonic()
        if started >= ends:
            break
        audit_record(
            action=AuditAction.READ,
            object_type="bench.writer",
            object_id=index,
            detail={"count": len(latencies)},
        )
        latencies.append(time.monotonic() - started)
    cpu.put(_cpu_seconds(backend) - cpu_before)
    connection.close()
    results.put(latencies)


def _sequencer(seconds: float, barrier, cpu) -> None:
    """The worker's audit sequencer (manage.py run_worker), alone."""
    _setup()
    import threading

    from django.conf import settings

    from jobs.management.commands.run_worker import _audit_sequencer_loop

    backend = _backend_pid()
    stop = threading.Event()
    barrier.wait()
    cpu_before = _cpu_seconds(backend)
    threading.Timer(seconds, stop.set).start()
    _audit_sequencer_loop(stop, settings.AUDIT_SEQUENCER_SECONDS)
    cpu.put(_cpu_seconds(backend) - cpu_before)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _chain_holds(after_id: int) -> bool:
    """The events written in this run link to one another and to the event
    before them, and each HMAC is sound (audit.chain.chain_verify)."""
    from audit.chain import chain_verify
    from audit.models import AuditEvent

    before = (
        AuditEvent.objects.filter(id__lte=after_id).order_by("-id").first()
        if after_id
        else None
    )
    previous = before.hash if before else "0" * 64
    return chain_verify(AuditEvent, previous=previous, after_id=after_id) is None


def _pending() -> int:
    from audit.models import AuditPendingEvent

    return AuditPendingEvent.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--no-sequencer",
        action="store_false",
        dest="sequencer",
        help="Run without the worker's audit sequencer beside the writers.",
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from audit.models import AuditEvent, AuditPendingEvent

    if connection.vendor != "postgresql":
        raise SystemExit("This measures PostgreSQL: DATABASE_URL names another.")
    call_command("migrate", verbosity=0, interactive=False)
    # What autovacuum does in production, switched off on this machine
    # (conf.d/90-ci.conf): without it the pending table keeps every deleted
    # row and the planner's figures go stale, and each run is slower than the
    # last for reasons no deployment has (docs/benchmarks.md).
    with connection.cursor() as cursor:
        for model in (AuditEvent, AuditPendingEvent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    after_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    connection.close()

    load_before = os.getloadavg()
    # Fresh interpreters, so no writer shares the parent's connection.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.writers + 1 + args.sequencer)
    results = context.Queue()
    cpu = context.Queue()
    writers = [
        context.Process(target=_writer, args=(i, args.seconds, barrier, results, cpu))
        for i in range(args.writers)
    ]
    if args.sequencer:
        sequencer = context.Process(
            target=_sequencer, args=(args.seconds, barrier, cpu)
        )
        sequencer.start()
    for writer in writers:
        writer.start()
    barrier.wait()
    began = time.monotonic()
    latencies = []
    for _ in writers:
        latencies.extend(results.get())
    elapsed = time.monotonic() - began
    for writer in writers:
        writer.join()
    cpu_seconds = sum(cpu.get() for _ in range(args.writers + args.sequencer))
    if args.sequencer:
        sequencer.join()
    load_after = os.getloadavg()
    # Events the writers left for the next chainer (there is none after the
    # run): counted, then chained here, before the chain is checked.
    pending_at_end = _pending()
    chained_in_run = AuditEvent.objects.filter(id__gt=after_id or 0).count()
    from audit.services import audit_chain_pending

    while audit_chain_pending():  # each call chains a bounded number of rounds
        pass

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=REPO, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    report = {
        "writers": args.writers,
        "seconds": round(elapsed, 2),
        "events": len(latencies),
        "events_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        # Writers, sequencer and their database backends; the final chaining
        # of what was left pending is not counted.
        "cpu_ms_per_event": round(cpu_seconds * 1000 / len(latencies), 3),
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in load_after],
        "cores": os.cpu_count(),
        "commit": commit or "unknown",
        "sequencer": args.sequencer,
        "chained_per_second": round(chained_in_run / elapsed, 1),
        "pending_at_end": pending_at_end,
        "chain_holds": _chain_holds(after_id or 0) and _pending() == 0,
    }
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
