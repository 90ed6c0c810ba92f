"""The packagers' install: waf configure --prefix=P && waf build && waf install."""

import os
import subprocess
import sys

import pytest

from tests.conftest import require_tool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = ["www/concours/website.yml", "master-node/master-node.yml",
           "worker-node/worker-node.yml"]


def waf(*args, env=None):
    command = [require_tool("waf", "the packagers' prefix install"), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Install into a temporary prefix; yield (prefix, destdir root)."""
    base = tmp_path_factory.mktemp("waf")
    prefix, destdir, out = base / "prefix", base / "destdir", base / "build"
    waf("configure", f"--prefix={prefix}", f"--python={sys.executable}", f"--out={out}")
    waf("build")
    waf("install")
    waf("install", env=dict(os.environ, DESTDIR=str(destdir)))
    return prefix, destdir


def test_binaries_samples_and_package_land_under_the_prefix(installed):
    prefix, _ = installed
    for name in ("master-node", "worker-node", "stechec-manage"):
        assert os.access(prefix / "bin" / name, os.X_OK), name
    share = prefix / "share" / "stechec2"
    for sample in SAMPLES:
        assert "CHANGEME" in (share / sample).read_text(), sample
    assert os.access(share / "www" / "concours" / "manage.py", os.X_OK)
    # The player environment, in stechec2's layout, beside the compile script.
    assert os.access(share / "compile-champion.sh", os.X_OK)
    for lang in ("c", "cxx", "python"):
        assert {p.name for p in (share / "player_env" / lang).iterdir()} == {
            "Makefile", f"Makefile-{lang}"}, lang
    packages = list(prefix.glob("lib/python3.*/site-packages/stechec/www/contest/models.py"))
    assert len(packages) == 1
    assert (packages[0].parent / "migrations" / "0001_initial.py").exists()
    prefix_module = packages[0].parents[2] / "_prefix.py"
    assert str(share) in prefix_module.read_text()


def test_destdir_stages_the_same_tree_under_it(installed):
    prefix, destdir = installed
    staged = destdir / str(prefix).lstrip("/")
    assert sorted(p.relative_to(staged) for p in staged.rglob("*") if "__pycache__" not in str(p)) \
        == sorted(p.relative_to(prefix) for p in prefix.rglob("*") if "__pycache__" not in str(p))


@pytest.mark.parametrize("program", ["master-node", "worker-node"])
def test_installed_daemons_run_from_the_prefix_without_environment(installed, program):
    prefix, _ = installed
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(prefix / "bin" / program), "--help"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "-c FILE" in done.stdout and "--local-logging" in done.stdout


def test_installed_package_is_the_one_the_daemons_import(installed):
    prefix, _ = installed
    launcher = (prefix / "bin" / "worker-node").read_text()
    assert launcher.startswith(f"#!{sys.executable}\n")
    pythondir = next(prefix.glob("lib/python3.*/site-packages"))
    assert f"sys.path.insert(0, {str(pythondir)!r})" in launcher
