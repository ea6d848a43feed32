"""What seed_demo prints while it works and the commands it tells people to run."""

import json
import re
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from home.management.commands.seed_demo import demo_code_command

pytestmark = pytest.mark.django_db

STEP = re.compile(r"^(.+)\.\.\. done in \d+\.\ds$", re.M)


@pytest.mark.slow
def test_each_step_is_reported_with_its_time_as_it_finishes():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    steps = STEP.findall(out.getvalue())
    assert len(steps) == 13
    assert steps[0].startswith("Organisations, people")
    assert steps[-1] == "A subject access request in progress"


@pytest.mark.slow
def test_json_output_stays_json_and_progress_goes_to_stderr():
    out, err = StringIO(), StringIO()
    call_command("seed_demo", "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())
    assert len(STEP.findall(err.getvalue())) == 13


@pytest.mark.slow
def test_the_printed_demo_code_command_uses_the_virtualenv_python(monkeypatch):
    out = StringIO()
    venv_python = settings.BASE_DIR / ".venv" / "bin" / "python"
    monkeypatch.setattr(sys, "executable", str(venv_python))
    call_command("seed_demo", stdout=out)
    assert ".venv/bin/python manage.py demo_code USERNAME" in out.getvalue()
    assert " python manage.py demo_code" not in out.getvalue()


def test_a_python_outside_the_project_is_named_in_full(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/opt/python 3/bin/python3")
    assert (
        demo_code_command()
        == "'/opt/python 3/bin/python3' manage.py demo_code USERNAME"
    )
