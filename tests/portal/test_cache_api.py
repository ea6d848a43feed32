"""One cache API: only portal.freshness and portal.page_cache touch the shared
cache (docs/caching.md). Everything else keeps values through
``freshness.remember``, so every cached value is outdated the same way.

The scan reads the source of every project module, function-level imports
included, so a new hand-built cache key fails here.
"""

import ast
from pathlib import Path

import pytest

from accounts.models import Organisation
from portal import freshness
from tests.factories import OrganisationFactory

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "portal",
    "accounts",
    "audit",
    "files",
    "agreements",
    "referrals",
    "meetings",
    "documents",
    "home",
    "bench",
)
# The backend itself (portal/redis_cache.py) is below the API, not a user of it.
CACHE_API = {"portal/freshness.py", "portal/page_cache.py", "portal/redis_cache.py"}
CACHE_METHODS = {
    "add",
    "delete",
    "delete_many",
    "get",
    "get_many",
    "get_or_set",
    "incr",
    "decr",
    "set",
    "set_many",
    "touch",
    "clear",
}


def cache_uses(source: str) -> list[str]:
    """Where ``source`` imports Django's cache or calls a cache method."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("django.core.cache")
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {alias.name for alias in node.names}
            if module.startswith("django.core.cache") or (
                module == "django.core" and "cache" in names
            ):
                found.append(f"line {node.lineno}: from {module} import ...")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CACHE_METHODS
            and _is_cache(node.func.value)
        ):
            found.append(f"line {node.lineno}: cache.{node.func.attr}()")
    return found


def _is_cache(node) -> bool:
    # cache.get(...) and caches["default"].get(...)
    if isinstance(node, ast.Name):
        return node.id in {"cache", "caches"}
    if isinstance(node, ast.Subscript):
        return _is_cache(node.value)
    return False


def _project_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


def test_only_the_cache_api_touches_the_cache():
    offenders = {
        name: uses
        for name, path in _project_modules()
        if name not in CACHE_API and (uses := cache_uses(path.read_text()))
    }
    assert offenders == {}


def test_the_scan_finds_a_hand_built_key():
    source = (
        "def panels(user):\n"
        "    from django.core.cache import cache\n"
        "    return cache.get(f'panels:{user.pk}')\n"
    )
    assert cache_uses(source) == [
        "line 2: from django.core.cache import ...",
        "line 3: cache.get()",
    ]
    assert cache_uses("from django.core import cache\n") == [
        "line 1: from django.core import ..."
    ]
    assert cache_uses("caches['default'].set('k', 1)\n") == ["line 1: cache.set()"]


def test_the_scan_covers_the_project():
    names = {name for name, _ in _project_modules()}
    assert names >= CACHE_API
    assert "agreements/selectors.py" in names
    assert "home/context_processors.py" in names


@pytest.mark.django_db
class TestRememberWithinARequest:
    # What the request_started and request_finished signals call (portal.apps);
    # sending the signals themselves would also close the test's database.
    def test_a_value_asked_for_twice_in_a_request_is_built_once(self):
        built = []
        freshness.request_started()
        try:
            for _ in range(3):
                freshness.remember(("test", "once"), lambda: built.append(1) or 1, 60)
        finally:
            freshness.request_finished()
        assert built == [1]

    def test_a_change_during_the_request_is_seen_at_once(self):
        freshness.request_started()
        try:
            before = freshness.remember(
                ("test", "orgs"),
                lambda: Organisation.objects.count(),
                60,
            )
            OrganisationFactory()
            after = freshness.remember(
                ("test", "orgs"),
                lambda: Organisation.objects.count(),
                60,
            )
        finally:
            freshness.request_finished()
        assert after == before + 1
