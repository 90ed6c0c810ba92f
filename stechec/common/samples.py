"""`stechec-samples`: write this installation's samples where the operator wants them.

    stechec-samples configs /etc/stechec      website.yml, master-node.yml,
                                              worker-node.yml (mode 0640: they hold
                                              secrets) and gunicorn.conf.py
    stechec-samples units /etc/systemd/system the systemd units, their ExecStart=
                                              naming this installation's programs and
                                              Documentation= its manuals
    stechec-samples where                     the share and docs directories

The same on a pip and a waf install, whose share directories are laid out
differently. An existing file is never overwritten: the command stops on it
and says so.
"""

import argparse
import os
import sys
import sysconfig

from stechec.common import share

CONFIG_MODE = 0o640
PUBLIC_MODE = 0o644
UNITS = ("master-node.service", "worker-node.service", "stechec-website.service",
         "stechec-webhooks.service")
# What the unit samples name, replaced by this installation's directories.
UNIT_BIN_DIR = "/usr/bin/"
UNIT_DOCS_DIR = "/usr/share/doc/stechec2/"


class SampleError(Exception):
    pass


def _configs():
    """(name written, source path, mode) of each configuration sample."""
    written = [(f"{name}.yml", share.sample_config(name), CONFIG_MODE)
               for name in share.CHECKOUT_CONFIGS]
    gunicorn = os.path.join(share.share_dir(), "gunicorn", "gunicorn.conf.py")
    return [*written, ("gunicorn.conf.py", gunicorn, PUBLIC_MODE)]


def bin_dir():
    """Where this installation's programs are: beside this command when it runs as one
    (pip's scripts directory, waf's P/bin), else the interpreter's scripts directory."""
    if os.path.basename(sys.argv[0]) == "stechec-samples":
        return os.path.dirname(os.path.abspath(sys.argv[0]))
    return sysconfig.get_path("scripts")


def unit_text(name):
    with open(os.path.join(share.share_dir(), "systemd", name), encoding="utf-8") as f:
        text = f.read()
    return (text.replace(UNIT_BIN_DIR, bin_dir() + "/")
            .replace(f"file://{UNIT_DOCS_DIR}", f"file://{share.docs_dir()}/"))


def _write(directory, name, text, mode):
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise SampleError(f"{path}: already exists (not overwritten)") from None
    except OSError as e:
        raise SampleError(f"{path}: cannot be written: {e.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(fd, mode)  # whatever the umask
        f.write(text)
    print(f"wrote {path} (mode {mode:04o})")


def write_configs(directory):
    for name, source, mode in _configs():
        with open(source, encoding="utf-8") as f:
            _write(directory, name, f.read(), mode)


def write_units(directory):
    for name in UNITS:
        _write(directory, name, unit_text(name), PUBLIC_MODE)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="stechec-samples", description="Write this installation's samples out.")
    commands = parser.add_subparsers(dest="command", required=True)
    configs = commands.add_parser("configs", help="the configuration samples (YAML 0640)")
    configs.add_argument("directory")
    units = commands.add_parser("units", help="the systemd units, naming this installation")
    units.add_argument("directory")
    commands.add_parser("where", help="print the share and docs directories")
    args = parser.parse_args(argv)
    if args.command == "where":
        print(f"share: {share.share_dir()}")
        print(f"docs: {share.docs_dir()}")
        return 0
    write = write_configs if args.command == "configs" else write_units
    try:
        if not os.path.isdir(args.directory):
            raise SampleError(f"{args.directory}: not a directory")
        write(args.directory)
    except SampleError as e:
        print(f"stechec-samples: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
