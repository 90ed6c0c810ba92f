"""The commented samples in share/ match their programs' schemas.

Each sample must load once its CHANGEME placeholders are filled in, must be
refused while they are not, and a misspelt key in it must be named in one line.
"""

import os
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

from stechec.common import config, share
from stechec.common.config import ConfigError
from stechec.master_node.config import MASTER_SCHEMA
from stechec.worker_node.settings import SCHEMA as WORKER_SCHEMA
from stechec.www.siteconfig import WEBSITE_SCHEMA
from tests.conftest import wait_for

PROGRAMS = {
    "website": (WEBSITE_SCHEMA, "website.debug"),
    "master-node": (MASTER_SCHEMA, "master.debug"),
    "worker-node": (WORKER_SCHEMA, "worker.debug"),
}


def sample(name):
    with open(share.sample_config(name)) as f:
        return f.read()


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_sample_loads_once_its_placeholders_are_replaced(name):
    schema, debug_key = PROGRAMS[name]
    text = sample(name).replace("CHANGEME", "chosen-by-the-operator")
    loaded = config.parse(text, name, schema, debug_key=debug_key)
    assert config.parse(text, name, schema, debug_key=debug_key) == loaded


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_sample_is_refused_while_a_secret_is_changeme(name):
    schema, debug_key = PROGRAMS[name]
    with pytest.raises(ConfigError, match=r": [a-z_.]+: still set to CHANGEME"):
        config.parse(sample(name), name, schema, debug_key=debug_key)


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_misspelt_key_in_the_sample_is_named(name, tmp_path):
    schema, debug_key = PROGRAMS[name]
    text = sample(name).replace("CHANGEME", "chosen")
    # Misspell the first key of the first section: "secret_key" -> "secret_kye".
    first = re.search(r"^  ([a-z_]+):", text, re.M)
    key = first.group(1)
    misspelt = key[:-2] + key[-1] + key[-2]
    path = tmp_path / f"{name}.yml"
    path.write_text(text[:first.start(1)] + misspelt + text[first.end(1):])
    with pytest.raises(ConfigError) as raised:
        config.load(name, str(path), schema, debug_key=debug_key)
    section = re.search(r"^([a-z_]+):", text, re.M).group(1)
    assert str(raised.value) == (f"{path}: {section}.{misspelt}: unknown key "
                                 f"(did you mean '{section}.{key}'?)")


def test_every_sample_is_where_the_install_puts_it():
    for name in PROGRAMS:
        assert os.path.exists(share.sample_config(name)), name


HELLO_APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
'''


@pytest.mark.parametrize("under_systemd", [False, True])
def test_gunicorn_keeps_its_control_socket_out_of_home(tmp_path, under_systemd):
    """gunicorn 25.1+ opens a control socket in $HOME by default; the site's user has none.
    Under systemd the sample puts it in the unit's RuntimeDirectory, elsewhere nowhere."""
    (tmp_path / "hello.py").write_text(HELLO_APP)
    home, runtime = tmp_path / "no-home", tmp_path / "run"
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    if under_systemd:
        runtime.mkdir()
        env["RUNTIME_DIRECTORY"] = str(runtime)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = os.path.join(share.share_dir(), "gunicorn", "gunicorn.conf.py")
    site = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", conf, "-w", "1", "-b",
                             f"127.0.0.1:{port}", "--chdir", str(tmp_path), "hello:application"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: _answers(port), "gunicorn to answer")
        if under_systemd:
            wait_for(lambda: (runtime / "gunicorn.ctl").exists(), "the control socket")
    finally:
        site.terminate()
        output = site.communicate(timeout=60)[0]
    assert not home.exists(), output
    assert "Permission denied" not in output, output


def _answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            return response.read() == b"hello"
    except OSError:
        return False
