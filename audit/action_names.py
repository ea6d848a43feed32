"""Every audit event name in one list, found the way Django's admin finds
``admin`` modules: each installed app may declare its names as ``StrEnum``
classes in an ``audit_actions`` module. The audit app names no domain app.

docs/audit.md shows ``actions_table()``; a test keeps it current.
"""

from collections.abc import Iterator
from enum import StrEnum
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

MODULE = "audit_actions"


def declared_actions() -> Iterator[tuple[str, type[StrEnum]]]:
    """(app label, enum) for every enum declared in an app's audit_actions,
    in the order of INSTALLED_APPS."""
    for app_config in apps.get_app_configs():
        if not module_has_submodule(app_config.module, MODULE):
            continue
        module = import_module(f"{app_config.name}.{MODULE}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, StrEnum)
                and value.__module__ == module.__name__
            ):
                yield app_config.label, value


def actions_table() -> str:
    """The Markdown table of every event name, as docs/audit.md shows it."""
    rows = [
        "| Event (stored) | In code | App |",
        "| --- | --- | --- |",
    ]
    for label, enum in declared_actions():
        rows += [
            f"| `{member.value}` | `{enum.__name__}.{member.name}` | {label} |"
            for member in enum
        ]
    return "\n".join(rows) + "\n"
