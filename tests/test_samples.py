"""The commented samples in share/ match their programs' schemas.

Each sample must load once its CHANGEME placeholders are filled in, must be
refused while they are not, and a misspelt key in it must be named in one line.
"""

import os
import re

import pytest

from stechec.common import config, share
from stechec.common.config import ConfigError
from stechec.master_node.config import MASTER_SCHEMA
from stechec.worker_node.settings import SCHEMA as WORKER_SCHEMA
from stechec.www.siteconfig import WEBSITE_SCHEMA

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
