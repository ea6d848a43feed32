"""Runs `python ARGS...` cases, each in a fresh process, for test_settings.py.

Starting a Python process and importing Django, WeasyPrint and the other
libraries took most of the two to three seconds each settings case cost. This
runner imports those libraries once, then forks a child per case: the child
gets exactly the case's environment and arguments and reads the settings, sets
up the apps and runs the command from scratch, as a server would. Nothing that
reads the settings or the environment at import is loaded before the fork
(checked below), so each case still sees only what its environment says.

Protocol: one JSON object a line on stdin, {"args": [...], "env": {...},
"timeout": seconds}; one JSON object a line on stdout for each, {"returncode",
"stdout", "stderr"}, as subprocess.run would give them.
"""

import importlib
import json
import logging
import os
import runpy
import signal
import sys
import tempfile
import traceback

# Libraries that read neither Django's settings nor the environment when
# imported, and that a settings case would otherwise import itself each time.
PRELOAD = [
    "django.core.management",
    "django.db.models",
    "django.forms",
    "django.http",
    "django.template",
    "django.urls",
    "django.core.serializers.json",
    "PIL.Image",
    "bs4",
    "boto3",
    "botocore.client",
    "psycopg",
    "pydantic",
    "redis",
    "requests",
    "weasyprint",
]


def preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    from django.conf import settings

    # The point of forking from here is that no case inherits settings.
    assert not settings.configured, "a preloaded module read the settings"
    ours = {"portal", "accounts", "agreements", "audit", "documents", "files"}
    assert not ours & {name.split(".")[0] for name in sys.modules}


def run_case(args: list[str], env: dict[str, str], timeout: float) -> dict:
    """Fork a child that does what `python *args` would, with ``env``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child
            _child(args, env, timeout, out.fileno(), err.fileno())
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return {
            "returncode": os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def _child(args, env, timeout, out_fd, err_fd) -> None:
    code = 1
    try:
        signal.alarm(int(timeout))  # dies as subprocess.run's timeout would kill it
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdin.close()
        os.environ.clear()
        os.environ.update(env)
        if args[0] == "-c":
            sys.argv = ["-c", *args[2:]]
            exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = list(args)
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
            runpy.run_path(args[0], run_name="__main__")
        code = 0
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> None:
    preload()
    # Cases run from the repository, as `python manage.py` would from there.
    sys.path[0] = os.getcwd()
    for line in sys.stdin:
        case = json.loads(line)
        result = run_case(case["args"], case["env"], case.get("timeout", 120))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
