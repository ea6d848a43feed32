"""The person index over the demo partnership (development only).

The demo's records are written through the services, so the receivers have
indexed them already; rebuilding here checks the whole index against the
records and gives the figure docs/benchmarks.md quotes for the demo.
"""

from .services import RebuildResult, person_index_rebuild


def demo_person_index_seed() -> RebuildResult:
    return person_index_rebuild()
