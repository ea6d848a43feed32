"""Audit event names live in one place per app (``<app>/audit_actions.py``),
code passes the declared members, and docs/audit.md lists them all.

The scan parses every project module, benchmarks included (bench/scale.py
writes a year of events straight into the log), tests aside: a name written
as a string, or built from pieces, is not declared anywhere and fails here.
"""

import ast
import re
from pathlib import Path

from audit.action_names import actions_table, declared_actions

ROOT = Path(__file__).resolve().parents[2]
AUDIT_DOC = ROOT / "docs" / "audit.md"
SKIPPED = {".venv", "node_modules", "tests", "static", "var", ".git"}
# The audit log's column is a CharField(max_length=80).
NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")


def declared_values() -> list[str]:
    return [member.value for _label, enum in declared_actions() for member in enum]


def project_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED & set(path.relative_to(ROOT).parts)
        and path.name != "audit_actions.py"
    )


def _is_text(node) -> bool:
    """A string literal, an f-string, or an expression made of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    return False


def literal_names(source: str, declared: set[str]) -> list[str]:
    """Where ``source`` passes or assigns an audit event name as text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            called = getattr(func, "attr", getattr(func, "id", ""))
            if called == "add_argument":  # argparse's action="store_true"
                continue
            found += [
                f"line {node.lineno}: {keyword.arg}="
                for keyword in node.keywords
                if keyword.arg
                and (keyword.arg == "action" or keyword.arg.endswith("_action"))
                and _is_text(keyword.value)
            ]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [
                getattr(target, "id", getattr(target, "attr", "")) for target in targets
            ]
            if node.value is not None and _is_text(node.value):
                found += [
                    f"line {node.lineno}: {name} ="
                    for name in names
                    if name.endswith("_action")
                ]
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "." in node.value
            and node.value in declared
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_the_scan_finds_names_written_as_text():
    declared = {"referral.submitted"}
    assert literal_names('audit_record(action="referral.submitted")', declared)
    assert literal_names('audit_record(action=f"{prefix}refused")', declared)
    assert literal_names('record(action="a.b" if x else Action.B)', declared)
    assert literal_names('virus_check(f, infected_action="x.y")', declared)
    assert literal_names('exported_action = "meeting.exported"', declared)
    assert literal_names('_record_denial(request, "referral.submitted")', declared)
    assert not literal_names("audit_record(action=ReferralAction.SUBMITTED)", declared)
    assert not literal_names('parser.add_argument("--x", action="store_true")', set())


def test_the_scan_covers_the_apps_and_the_benchmarks():
    scanned = {path.relative_to(ROOT).parts[0] for path in project_modules()}
    assert {"accounts", "audit", "referrals", "meetings", "bench"} <= scanned
    assert ROOT / "bench" / "scale.py" in project_modules()


def test_no_module_writes_an_event_name_as_text():
    declared = set(declared_values())
    found = {
        str(path.relative_to(ROOT)): uses
        for path in project_modules()
        if (uses := literal_names(path.read_text(), declared))
    }
    assert found == {}


def test_every_app_that_records_events_declares_them():
    labels = {label for label, _enum in declared_actions()}
    assert labels >= {
        "accounts",
        "audit",
        "files",
        "agreements",
        "referrals",
        "meetings",
        "documents",
        "home",
    }


def test_names_are_unique_across_apps_and_fit_the_log():
    values = declared_values()
    duplicates = sorted({value for value in values if values.count(value) > 1})
    assert duplicates == []
    assert [value for value in values if not NAME.match(value)] == []
    assert max(len(value) for value in values) <= 80


def test_names_an_existing_log_holds_are_unchanged():
    # Stored events are hashed with their names: these must never change.
    values = set(declared_values())
    assert {
        "read",
        "auth.login",
        "referral.submitted",
        "referral.draft_autosaved",
        "referral.attachment_infected_refused",
        "document.scan_unavailable",
        "meeting.pack_downloaded",
        "meeting_action.exported",
        "agreement_coverage.list_viewed",
        "case_material.refused",
        "organisation.exported",
        "audit.log_exported",
        "storage.swept",
        "restore.verified",
        "search",
    } <= values


def test_docs_list_every_name():
    # Regenerate with: manage.py shell -c "from audit.action_names import
    # actions_table; print(actions_table())"
    assert actions_table() in AUDIT_DOC.read_text()
