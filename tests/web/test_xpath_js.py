"""The web forms' XPath evaluator (static/js/xpath.js), tested with node's
own test runner: every operator and function of the supported subset."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1] / "js"


def test_xpath_evaluator_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node (v20+) is needed for the JavaScript unit tests", pytrace=False
        )
    run = subprocess.run(
        [node, "--test", "--no-warnings", str(TESTS / "xpath.test.mjs")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
