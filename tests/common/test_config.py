"""Every configuration problem is one line naming the file, the key and what is wrong."""

import pytest

from stechec.common import config
from stechec.common.config import ConfigError, Key

SCHEMA = {
    "master": {
        "host": Key(str, "localhost"),
        "port": Key(int),
        "shared_secret": Key(str, secret=True),
        "timeout_secs": Key(float, 3.0),
    },
    "sql": {"engine": Key(str, "sqlite", choices=("sqlite", "postgresql"))},
    "debug": Key(bool, False),
}

GOOD = """
master:
  port: 8067
  shared_secret: s3cret
"""


def write(tmp_path, text):
    path = tmp_path / "master-node.yml"
    path.write_text(text)
    return str(path)


def load(path):
    return config.load("master-node", path, SCHEMA, debug_key="debug")


def error_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(path + ": ")
    return message[len(path) + 2:]


def test_a_good_file_gets_its_defaults_filled_in(tmp_path):
    loaded = load(write(tmp_path, GOOD))
    assert loaded == {
        "master": {"host": "localhost", "port": 8067, "shared_secret": "s3cret",
                   "timeout_secs": 3.0},
        "sql": {"engine": "sqlite"},
        "debug": False,
    }


def test_a_missing_file_says_where_the_sample_is(tmp_path):
    path = str(tmp_path / "absent.yml")
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert str(raised.value).startswith(f"{path}: file not found")
    assert "master-node.yml" in str(raised.value).split("sample is")[1]


def test_the_default_path_is_under_etc_stechec():
    assert config.default_path("worker-node") == "/etc/stechec/worker-node.yml"


def test_a_yaml_syntax_error_gives_its_line(tmp_path):
    message = error_of(tmp_path, "master:\n  port: 8067\n  shared_secret: [unclosed\n")
    assert message.startswith("line ")
    assert "YAML syntax error" in message


def test_a_missing_key_is_named(tmp_path):
    assert error_of(tmp_path, "master:\n  shared_secret: x\n") == "master.port: missing key"


def test_a_misspelt_key_gets_the_nearest_valid_name(tmp_path):
    message = error_of(tmp_path, GOOD + "  prot: 1\n")
    assert message == "master.prot: unknown key (did you mean 'master.port'?)"


def test_an_unknown_key_with_no_close_name_lists_the_valid_ones(tmp_path):
    message = error_of(tmp_path, GOOD + "zzz: 1\n")
    assert message == "zzz: unknown key (valid keys here: debug, master, sql)"


def test_a_wrong_type_is_named_with_the_value(tmp_path):
    message = error_of(tmp_path, "master:\n  port: eighty\n  shared_secret: x\n")
    assert message == "master.port: expected an integer, got a string 'eighty'"


def test_a_boolean_is_not_an_integer(tmp_path):
    message = error_of(tmp_path, "master:\n  port: yes\n  shared_secret: x\n")
    assert message == "master.port: expected an integer, got true or false True"


def test_an_integer_is_accepted_as_a_number(tmp_path):
    loaded = load(write(tmp_path, GOOD + "  timeout_secs: 2\n"))
    assert loaded["master"]["timeout_secs"] == 2.0


def test_a_value_outside_its_choices_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD + "sql:\n  engine: mysql\n")
    assert message == "sql.engine: 'mysql' is not one of sqlite, postgresql"


def test_a_section_that_is_not_a_mapping_is_refused(tmp_path):
    assert error_of(tmp_path, "master: 12\n") == \
        "master: must be a section (a mapping), not an integer"


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    assert error_of(tmp_path, "- a\n- b\n") == \
        "the file must be a mapping of sections, not a list"


def test_a_secret_left_to_changeme_is_refused_outside_debug_mode(tmp_path):
    message = error_of(tmp_path, "master:\n  port: 1\n  shared_secret: CHANGEME\n")
    assert message.startswith("master.shared_secret: still set to CHANGEME")


def test_a_secret_left_to_changeme_is_accepted_in_debug_mode(tmp_path):
    text = "master:\n  port: 1\n  shared_secret: CHANGEME\ndebug: true\n"
    assert load(write(tmp_path, text))["master"]["shared_secret"] == "CHANGEME"


def test_an_empty_secret_is_refused(tmp_path):
    message = error_of(tmp_path, "master:\n  port: 1\n  shared_secret: ''\n")
    assert message == "master.shared_secret: must not be empty"
