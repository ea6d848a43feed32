"""One way to show a refusal: a view re-renders its bound form with the error
added through ``form.add_error`` (or binds a new form), with status 400. No
project code writes or reads Django's private error caches, which change
between releases and skip the form's own cleaning.

The scan parses every project module (tests and installed packages aside).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", "node_modules", "tests", "static", "var", ".git"}
# Django's private error state on forms and formsets.
PRIVATE_ERRORS = {"_errors", "_non_form_errors"}


def project_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED & set(path.relative_to(ROOT).parts)
    )


def private_error_uses(source: str) -> list[str]:
    return [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_ERRORS
    ]


def test_the_scan_finds_a_private_error_cache():
    assert private_error_uses("form._errors = ErrorDict()\n") == ["line 1: ._errors"]
    assert private_error_uses("x = formset._non_form_errors\n") == [
        "line 1: ._non_form_errors"
    ]
    assert private_error_uses("form.add_error('name', 'Enter a name')\n") == []


def test_the_scan_covers_the_apps():
    scanned = {path.relative_to(ROOT).parts[0] for path in project_modules()}
    assert {"referrals", "meetings", "documents", "accounts", "portal"} <= scanned


def test_no_module_touches_form_error_internals():
    found = {
        str(path.relative_to(ROOT)): uses
        for path in project_modules()
        if (uses := private_error_uses(path.read_text()))
    }
    assert found == {}
