"""The two installs of the README's Deployment section, each from its own copy:

* the packagers' `waf configure --prefix=P && waf build && waf install`;
* `pip install` into a venv made from the system's own Python (Debian 12's
  is 3.11.2, older than tarfile's extraction filters), from a copy of the
  checkout removed before the tests run.

Both must give an operator every program, sample, the compile script, the
player environment, units and manuals, with defaults pointing at them.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_tool, wait_for
from tests.worker_node.conftest import C_CHAMPION, StandInMaster, WorkerProcess

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["www/concours/website.yml", "master-node/master-node.yml",
           "worker-node/worker-node.yml"]
PROGRAMS = ["master-node", "worker-node", "stechec-manage", "stechec-website",
            "stechec-samples", "stechec2-refgame-server", "stechec2-refgame-client", "stechec"]
# What an install must not carry over from a working copy.
NOT_INSTALLED = shutil.ignore_patterns(".venv", ".git", "build", "var", "test-artifacts",
                                       "*.egg-info", "__pycache__", ".*_cache", ".lock-waf*")


def run(command, **kwargs):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=kwargs.pop("timeout", 300), **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


def waf(*args, env=None, check=True):
    command = [require_tool("waf", "the packagers' prefix install"), *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@contextlib.contextmanager
def enterable_dir(prefix):
    """A directory the sandbox's user ids can go through (tmp_path is root's only): the
    installed compile script and player environment run as them. Removed at the end."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path)


def python_with_the_dependencies_only(base):
    """A venv whose Python imports this one's dependencies but not the stechec package
    (this venv's editable install is a .pth file, which a plain path line does not run),
    and whose bin/ holds none of the checkout's programs: what a packager's Python is."""
    venv = base / "python"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site_packages = next(p for p in sys.path if p.endswith("site-packages"))
    (next(venv.glob("lib/python3.*/site-packages")) / "dependencies.pth").write_text(
        site_packages + "\n")
    python = venv / "bin" / "python"
    missing = subprocess.run([python, "-c", "import stechec"], cwd=base, capture_output=True)
    assert missing.returncode != 0, "the package must come from the install only"
    return python


@pytest.fixture(scope="module")
def installed():
    """Install into a temporary prefix; yield (prefix, destdir root, its Python)."""
    with enterable_dir("stechec-waf-") as base:
        prefix, destdir, out = base / "prefix", base / "destdir", base / "build"
        python = python_with_the_dependencies_only(base)
        waf("configure", f"--prefix={prefix}", f"--python={python}", f"--out={out}")
        waf("build")
        waf("install")
        waf("install", env=dict(os.environ, DESTDIR=str(destdir)))
        yield prefix, destdir, python


@pytest.fixture(scope="module")
def pip_venv():
    """pip install (not editable) into a venv of the system's Python; yield the venv."""
    python = require_tool("python3", "the system's own Python", search_path="/usr/bin")
    with enterable_dir("stechec-pip-") as base:
        source, venv = base / "source", base / "venv"
        shutil.copytree(ROOT, source, ignore=NOT_INSTALLED)
        run([python, "-m", "venv", venv])
        run([venv / "bin" / "pip", "install", "--quiet", source], timeout=900)
        shutil.rmtree(source)
        yield venv


@pytest.fixture(params=["waf", "pip"])
def bin_dir(request):
    """The directory of the installed programs, for each install."""
    if request.param == "waf":
        return request.getfixturevalue("installed")[0] / "bin"
    return request.getfixturevalue("pip_venv") / "bin"


def where(bin_dir):
    """`stechec-samples where`: {"share": path, "docs": path}."""
    lines = run([bin_dir / "stechec-samples", "where"]).stdout.splitlines()
    return {key: Path(value) for key, value in (line.split(": ", 1) for line in lines)}


def files_under(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def test_binaries_samples_and_package_land_under_the_prefix(installed):
    prefix = installed[0]
    for name in PROGRAMS:
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
    packages = list(prefix.glob("lib/python3.*/site-packages/stechec/contest/models.py"))
    assert len(packages) == 1
    assert (packages[0].parent / "migrations" / "0001_initial.py").exists()
    prefix_module = packages[0].parents[1] / "_prefix.py"
    assert str(share) in prefix_module.read_text()
    assert files_under(prefix / "share" / "doc" / "stechec2") == files_under(ROOT / "docs")


# The campaign modules (devtools/, a checkout's only): no install carries them.
CAMPAIGN_MODULES = sorted(p.name for p in (ROOT / "devtools").glob("*.py")
                          if p.name != "__init__.py")


def campaign_code_in(python_files):
    """The paths among `python_files` (relative to site-packages) that are campaign code."""
    return [path for path in python_files
            if path.parts[0] == "devtools" or path.name in CAMPAIGN_MODULES]


def test_the_waf_install_carries_no_campaign_code(installed):
    pythondir = next(installed[0].glob("lib/python3.*/site-packages"))
    installed_files = [p.relative_to(pythondir) for p in pythondir.rglob("*.py")]
    assert Path("stechec/master_node/main.py") in installed_files
    assert campaign_code_in(installed_files) == []


def test_the_wheel_carries_no_campaign_code(pip_venv):
    """The RECORD of the installed distribution lists every file of the wheel pip built."""
    record = next(pip_venv.glob("lib/python3.*/site-packages/stechec2_server-*.dist-info/RECORD"))
    wheel_files = [Path(line.split(",")[0]) for line in record.read_text().splitlines()]
    assert Path("stechec/master_node/main.py") in wheel_files
    assert campaign_code_in(wheel_files) == []


def test_destdir_stages_the_same_tree_under_it(installed):
    prefix, destdir, _ = installed
    staged = destdir / str(prefix).lstrip("/")
    assert sorted(p.relative_to(staged) for p in staged.rglob("*") if "__pycache__" not in str(p)) \
        == sorted(p.relative_to(prefix) for p in prefix.rglob("*") if "__pycache__" not in str(p))


@pytest.mark.parametrize("program", ["master-node", "worker-node"])
def test_installed_daemons_run_from_the_prefix_without_environment(installed, program):
    prefix = installed[0]
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(prefix / "bin" / program), "--help"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "-c FILE" in done.stdout and "--local-logging" in done.stdout


def test_installed_package_is_the_one_the_daemons_import(installed):
    prefix = installed[0]
    launcher = (prefix / "bin" / "worker-node").read_text()
    assert launcher.startswith(f"#!{installed[2]}\n")
    pythondir = next(prefix.glob("lib/python3.*/site-packages"))
    assert f"sys.path.insert(0, {str(pythondir)!r})" in launcher


# The module of each of setup.cfg's install_requires.
DEPENDENCIES = ["django", "gevent", "yaml", "psycopg2", "psycogreen", "gunicorn",
                "whitenoise", "openskill", "defusedxml", "rest_framework", "drf_spectacular",
                "drf_spectacular_sidecar", "click", "rich",
                "prometheus_client"]


@pytest.mark.parametrize("module", DEPENDENCIES)
def test_configure_refuses_a_python_missing_any_dependency(tmp_path, module):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / f"{module}.py").write_text("raise ImportError('hidden by the test')\n")
    done = waf("configure", f"--prefix={tmp_path / 'prefix'}", f"--python={sys.executable}",
               f"--out={tmp_path / 'build'}", check=False,
               env=dict(os.environ, PYTHONPATH=str(hidden)))
    assert done.returncode != 0
    checked = [line for line in done.stdout.splitlines()
               if line.startswith(f"Checking for python module '{module}'")]
    assert len(checked) == 1 and checked[0].rstrip().endswith("not found"), done.stdout


def test_pip_installs_the_whole_share_tree_and_the_manuals(pip_venv):
    found = where(pip_venv / "bin")
    assert files_under(found["share"]) == files_under(ROOT / "share")
    assert files_under(found["docs"]) == files_under(ROOT / "docs")
    assert os.access(found["share"] / "compile-champion.sh", os.X_OK)
    version = run([pip_venv / "bin" / "python", "-c",
                   "import sys; print(sys.version.split()[0])"]).stdout
    print("pip install into a venv of /usr/bin/python3", version)


def test_samples_are_written_out_with_their_modes(bin_dir, tmp_path):
    share = where(bin_dir)["share"]
    etc = tmp_path / "etc"
    etc.mkdir()
    run([bin_dir / "stechec-samples", "configs", etc])
    for name in ("website", "master-node", "worker-node"):
        written = etc / f"{name}.yml"
        assert written.stat().st_mode & 0o777 == 0o640, "configurations hold secrets"
        assert "CHANGEME" in written.read_text()
    assert (etc / "gunicorn.conf.py").read_text() == \
        (share / "gunicorn" / "gunicorn.conf.py").read_text()
    again = subprocess.run([bin_dir / "stechec-samples", "configs", etc], capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 1
    assert again.stderr == (f"stechec-samples: {etc / 'website.yml'}: already exists "
                            "(not overwritten)\n")


def test_units_name_the_installed_programs_and_manuals(bin_dir, tmp_path):
    run([bin_dir / "stechec-samples", "units", tmp_path])
    units = sorted(p.name for p in tmp_path.glob("*.service"))
    assert units == ["master-node.service", "stechec-webhooks.service", "stechec-website.service",
                     "worker-node.service"]
    for unit in units:
        lines = dict(line.split("=", 1) for line in (tmp_path / unit).read_text().splitlines()
                     if "=" in line and not line.startswith("#"))
        program = Path(lines["ExecStart"].split()[0])
        assert program.parent == bin_dir and os.access(program, os.X_OK), unit
        assert Path(lines["Documentation"].removeprefix("file://")).is_file(), unit


def test_a_missing_configuration_names_an_installed_sample(bin_dir, tmp_path):
    done = subprocess.run([bin_dir / "master-node", "-l", "-c", tmp_path / "missing.yml"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    sample = done.stderr.split("(a commented sample is ")[1].split(")")[0]
    assert "CHANGEME" in Path(sample).read_text()


def test_the_installed_worker_compiles_with_its_default_paths(bin_dir, tmp_path):
    """No paths in its configuration, no PATH to this checkout's programs: the installed
    compile script, player environment and reference game programs; on the pip side,
    under the system's Python."""
    master = StandInMaster(tmp_path)
    master.start()
    worker = WorkerProcess(tmp_path, master, {
        "contest": {"game": "tictactoe"},
        "paths": {"stechec_server": None, "stechec_client": None, "player_env": None,
                  "compile_script": None}}, program=[bin_dir / "worker-node"],
        env={"PATH": "/usr/bin:/bin"})
    try:
        worker.start()
        result = worker.compile("alice", 1, {"champion.c": C_CHAMPION})
        assert (result["status"], result["language"]) == ("ready", "c"), result
    finally:
        worker.stop()
        worker.remove_work_directory()
        master.stop()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_website_runs_from_the_installed_launcher(bin_dir, tmp_path):
    """stechec-website: gunicorn with the installed sample configuration, finding the
    package without --pythonpath, as a user without a home (no control socket there)."""
    etc = tmp_path / "etc"
    etc.mkdir()
    run([bin_dir / "stechec-samples", "configs", etc])
    config = yaml.safe_load((etc / "website.yml").read_text())
    config["website"].update(secret_key="test-secret-key", static_root=str(tmp_path / "static"))
    config["sql"] = {"engine": "sqlite", "database": str(tmp_path / "site.sqlite3")}
    config["master"]["shared_secret"] = "test-shared-secret"
    config["contest"]["directory"] = str(tmp_path / "shared")
    (tmp_path / "shared").mkdir()
    (etc / "website.yml").write_text(yaml.safe_dump(config))
    home = tmp_path / "no-home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home),
           "STECHEC_WEBSITE_CONFIG": str(etc / "website.yml")}
    run([bin_dir / "stechec-manage", "migrate", "--noinput"], env=env, timeout=300)
    port = _free_port()
    site = subprocess.Popen([bin_dir / "stechec-website", "-c", etc / "gunicorn.conf.py",
                             "-b", f"127.0.0.1:{port}", "-w", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = wait_for(lambda: _get(f"http://127.0.0.1:{port}/"), "the site's home page")
        assert page.status == 200
    finally:
        site.send_signal(signal.SIGTERM)
        output = site.communicate(timeout=60)[0]
    assert not home.exists(), output
    assert "Permission denied" not in output and "control socket" not in output.lower(), output


def _get(url):
    try:
        return urllib.request.urlopen(url, timeout=10)
    except OSError:
        return None
