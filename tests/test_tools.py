"""Every script in tools/ starts from a clean clone by itself, and ruff checks the Python ones."""

import os
import shutil
import subprocess
import time
import tomllib

import pytest

from tests.conftest import ROOT, run_tool

TOOLS = sorted(os.listdir(os.path.join(ROOT, "tools")))
# Not commands with a --help: ensure-venv takes extras (it is what the others call), and
# run-tests hands its arguments to pytest (it runs this very test).
HELPERS = {"ensure-venv", "run-tests"}


@pytest.mark.parametrize("tool", [tool for tool in TOOLS if tool not in HELPERS])
def test_each_tool_starts_from_its_shebang_without_an_activated_venv(tool):
    run = run_tool(tool, "--help")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "usage" in run.stdout.lower(), run.stdout


def test_ruff_checks_every_python_script_of_tools():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        included = set(tomllib.load(f)["tool"]["ruff"]["extend-include"])
    python_scripts = set()
    for tool in TOOLS:
        with open(os.path.join(ROOT, "tools", tool)) as f:
            if "python" in f.readline():
                python_scripts.add(f"tools/{tool}")
    assert python_scripts == included


@pytest.fixture
def fake_checkout(tmp_path):
    """tools/ensure-venv in a checkout whose .venv has a pip that only records its calls."""
    (tmp_path / "tools").mkdir()
    shutil.copy(os.path.join(ROOT, "tools", "ensure-venv"), tmp_path / "tools")
    for name in ("setup.cfg", "pyproject.toml"):
        (tmp_path / name).touch()
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\n")
    (bin_dir / "pip").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "pip-calls"}\n')
    for program in bin_dir.iterdir():
        program.chmod(0o755)
    # Older than any stamp written below.
    for name in ("setup.cfg", "pyproject.toml"):
        os.utime(tmp_path / name, (1, 1))
    return tmp_path


def ensure_venv(checkout, *extras):
    """Run the checkout's ensure-venv; the extras each pip install it made was for."""
    before = (checkout / "pip-calls").read_text() if (checkout / "pip-calls").exists() else ""
    run = subprocess.run([checkout / "tools" / "ensure-venv", *extras], capture_output=True,
                         text=True, check=True, timeout=60)
    assert run.stdout == f"{checkout / '.venv' / 'bin'}\n"
    calls = (checkout / "pip-calls").read_text()[len(before):] \
        if (checkout / "pip-calls").exists() else ""
    return [line.split()[-1] for line in calls.splitlines()]


def test_ensure_venv_installs_again_only_for_extras_not_installed(fake_checkout):
    assert ensure_venv(fake_checkout, "test") == [".[test]"]
    # The tools after run-tests: the test install has everything they need.
    assert ensure_venv(fake_checkout) == []
    assert ensure_venv(fake_checkout, "test") == []
    assert ensure_venv(fake_checkout, "docs") == [".[docs]"]
    # setup.cfg changed since: newer than every stamp.
    later = time.time() + 60
    os.utime(fake_checkout / "setup.cfg", (later, later))
    assert ensure_venv(fake_checkout) == ["."]
