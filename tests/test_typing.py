"""mypy, with django-stubs, passes over every package of the project (issue 14, item 5).

CI's .ci/run and `make lint` run it; the run here is marked slow (`-m 'not slow'` skips it), as it
takes about 15 s from a cold cache, 2 s from a warm one (.mypy_cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.test_architecture import PACKAGES

ROOT = Path(__file__).resolve().parent.parent


def mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_mypy_checks_every_package_of_the_app_map() -> None:
    assert sorted(mypy_config()["packages"]) == sorted(PACKAGES)


@pytest.mark.slow
def test_mypy_passes() -> None:
    # The plugin loads the settings that pyproject.toml names, not the tests' own.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
