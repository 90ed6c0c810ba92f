"""YAML configuration files checked against a schema.

Each program has one file (`website.yml`, `master-node.yml`,
`worker-node.yml`), by default under /etc/stechec/. A schema is a nested dict
whose leaves are `Key`s; loading returns plain nested dicts with every default
filled in. Every problem is reported as one `ConfigError` line naming the file,
the dotted key and what is wrong, so that an operator can fix it without
reading a traceback.
"""

import difflib
import os

import yaml

from stechec.common import share

DEFAULT_DIR = "/etc/stechec"
PLACEHOLDER = "CHANGEME"
REQUIRED = object()

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping"}


class ConfigError(Exception):
    """A configuration problem, as one line meant for the operator."""


class Key:
    """One leaf of a schema.

    `type` is str, int, float, bool, list or dict; `default` makes the key
    optional; `secret` keys may not keep the CHANGEME placeholder outside debug
    mode; `choices` restricts the value; `nullable` accepts an empty value
    (YAML `~` or nothing) as None.
    """

    def __init__(self, type, default=REQUIRED, *, secret=False, choices=None,
                 nullable=False, minimum=None):
        self.type = type
        self.default = default
        self.secret = secret
        self.choices = choices
        self.nullable = nullable
        self.minimum = minimum

    @property
    def required(self):
        return self.default is REQUIRED


def default_path(name):
    return os.path.join(DEFAULT_DIR, f"{name}.yml")


def load(name, path, schema, *, debug_key=None):
    """Read and check `path` (or /etc/stechec/<name>.yml) against `schema`.

    `debug_key` is the dotted key that switches debug mode on, in which secrets
    may keep their placeholder value.
    """
    path = path or default_path(name)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (a commented sample is "
                          f"{share.sample_config(name)})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror}") from None
    return parse(text, path, schema, debug_key=debug_key)


def parse(text, path, schema, *, debug_key=None):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}: {where}YAML syntax error: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must be a mapping of sections, not {_kind(data)}")
    config = _check_section(data, schema, path, "")
    debug = bool(_lookup(config, debug_key)) if debug_key else False
    if not debug:
        _check_secrets(config, schema, path, "")
    return config


def _lookup(config, dotted):
    for part in dotted.split("."):
        config = config[part]
    return config


def _kind(value):
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return name
    return type(value).__name__


def _check_section(data, schema, path, prefix):
    for key in data:
        if key not in schema:
            where = f"{prefix}{key}"
            close = difflib.get_close_matches(str(key), [str(k) for k in schema], n=1, cutoff=0.6)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else \
                f" (valid keys here: {', '.join(sorted(schema))})"
            raise ConfigError(f"{path}: {where}: unknown key{hint}")
    result = {}
    for key, spec in schema.items():
        where = f"{prefix}{key}"
        if isinstance(spec, dict):
            value = data.get(key)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {where}: must be a section (a mapping), "
                                  f"not {_kind(value)}")
            result[key] = _check_section(value, spec, path, f"{where}.")
        elif key not in data:
            if spec.required:
                raise ConfigError(f"{path}: {where}: missing key")
            result[key] = spec.default
        else:
            result[key] = _check_value(data[key], spec, path, where)
    return result


def _check_value(value, spec, path, where):
    if value is None:
        if spec.nullable:
            return None
        raise ConfigError(f"{path}: {where}: has no value, expected {_TYPE_NAMES[spec.type]}")
    ok = isinstance(value, spec.type) and not (spec.type in (int, float) and isinstance(value, bool))
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{path}: {where}: expected {_TYPE_NAMES[spec.type]}, "
                          f"got {_kind(value)} {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ConfigError(f"{path}: {where}: {value!r} is not one of "
                          f"{', '.join(map(str, spec.choices))}")
    if spec.minimum is not None and value < spec.minimum:
        raise ConfigError(f"{path}: {where}: {value!r} is below the minimum {spec.minimum}")
    return value


def _check_secrets(config, schema, path, prefix):
    for key, spec in schema.items():
        if isinstance(spec, dict):
            _check_secrets(config[key], spec, path, f"{prefix}{key}.")
        elif spec.secret and config[key] == PLACEHOLDER:
            raise ConfigError(f"{path}: {prefix}{key}: still set to {PLACEHOLDER}; "
                              "choose a long random value (and the same one on every node "
                              "that shares it)")
        elif spec.secret and spec.required and not config[key]:
            raise ConfigError(f"{path}: {prefix}{key}: must not be empty")
