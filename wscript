#!/usr/bin/env python3
"""waf build for packagers: the prefix install of the original deployment.

    waf configure --prefix=P [--python=PYTHON] && waf build && waf install

(DESTDIR is honoured) puts the programs in P/bin (LAUNCHERS below, run by
the Python that configure found, finding the package without any
environment variable), the stechec package under P/lib/pythonX.Y/
site-packages, share/ under P/share/stechec2/ with the three sample
configurations where the deployment guide expects them, and docs/ under
P/share/doc/stechec2/. configure checks that the Python imports every
dependency setup.cfg names.
"""

import configparser
import os
import re

from waflib import Utils

APPNAME = "stechec2-server"
top = "."
out = "build"

LAUNCHERS = {
    "master-node": "stechec.master_node.main",
    "worker-node": "stechec.worker_node.main",
    "stechec-manage": "stechec.www.manage",
    "stechec-website": "stechec.www.serve",
    "stechec-samples": "stechec.common.samples",
    "stechec": "stechec.cli.main",
    "stechec2-refgame-server": "stechec.refgame.server",
    "stechec2-refgame-client": "stechec.refgame.client",
}
# The module each of setup.cfg's install_requires provides (configure refuses
# a requirement missing here, so that the two cannot drift apart).
REQUIRED_MODULES = {
    "Django": "django",
    "gevent": "gevent",
    "PyYAML": "yaml",
    "psycopg2-binary": "psycopg2",
    "psycogreen": "psycogreen",
    "gunicorn": "gunicorn",
    "whitenoise": "whitenoise",
    "openskill": "openskill",
    "defusedxml": "defusedxml",
    "Markdown": "markdown",
    "djangorestframework": "rest_framework",
    "drf-spectacular": "drf_spectacular",
    "drf-spectacular-sidecar": "drf_spectacular_sidecar",
    "click": "click",
    "rich": "rich",
    "prometheus_client": "prometheus_client",
}
# share/<file> -> P/share/stechec2/<place>, as in the deployment guide.
SAMPLE_PLACES = {
    "website.yml": "www/concours",
    "master-node.yml": "master-node",
    "worker-node.yml": "worker-node",
}

LAUNCHER = """#!{python}
import sys

sys.path.insert(0, {pythondir!r})
from {module} import main

sys.exit(main())
"""

PREFIX_MODULE = '''"""Written by the waf install: where its share and docs directories are."""

SHARE_DIR = {share!r}
DOCS_DIR = {docs!r}
'''


def options(opt):
    opt.load("python")


def configure(conf):
    conf.load("python")
    if not conf.env.PYTHONDIR:
        # Chosen here rather than by waf, whose default asks distutils (gone
        # from Python 3.12 on).
        version = conf.cmd_and_log(conf.env.PYTHON + [
            "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).strip()
        conf.env.PYTHONDIR = os.path.join(conf.env.PREFIX, "lib", f"python{version}",
                                          "site-packages")
    conf.check_python_version((3, 11))
    for requirement in _install_requires(conf):
        if requirement not in REQUIRED_MODULES:
            conf.fatal(f"wscript: REQUIRED_MODULES does not name setup.cfg's {requirement}")
        conf.check_python_module(REQUIRED_MODULES[requirement])
    conf.env.SHAREDIR = os.path.join(conf.env.PREFIX, "share", "stechec2")
    conf.env.DOCSDIR = os.path.join(conf.env.PREFIX, "share", "doc", "stechec2")


def _install_requires(conf):
    """The distribution names of setup.cfg's install_requires."""
    setup = configparser.ConfigParser()
    setup.read(conf.path.find_node("setup.cfg").abspath())
    lines = setup["options"]["install_requires"].split("\n")
    return [re.match(r"[A-Za-z0-9._-]+", line.strip()).group(0) for line in lines if line.strip()]


def build(bld):
    bld(features="py", source=bld.path.ant_glob("stechec/**/*.py", excl=["stechec/_prefix.py"]),
        install_from=".", install_path="${PYTHONDIR}")
    bld.install_files("${PYTHONDIR}", bld.path.ant_glob(
        "stechec/**/*", excl=["**/*.py", "**/*.pyc", "**/__pycache__/**"]), relative_trick=True)

    prefix_module = bld.path.find_or_declare("stechec/_prefix.py")
    bld(rule=lambda task: task.outputs[0].write(PREFIX_MODULE.format(
        share=bld.env.SHAREDIR, docs=bld.env.DOCSDIR)), target=prefix_module,
        vars=["SHAREDIR", "DOCSDIR"])
    bld.install_files("${PYTHONDIR}/stechec", prefix_module)

    for name, module in LAUNCHERS.items():
        node = bld.path.find_or_declare(f"bin/{name}")
        bld(rule=lambda task, module=module: task.outputs[0].write(LAUNCHER.format(
            python=task.env.PYTHON[0], pythondir=task.env.PYTHONDIR, module=module)),
            target=node, vars=["PYTHON", "PYTHONDIR"])
        bld.install_files("${BINDIR}", node, chmod=Utils.O755)

    manage = bld.path.find_or_declare("share/manage.py")
    bld(rule=lambda task: task.outputs[0].write(LAUNCHER.format(
        python=task.env.PYTHON[0], pythondir=task.env.PYTHONDIR, module="stechec.www.manage")),
        target=manage, vars=["PYTHON", "PYTHONDIR"])
    bld.install_files("${SHAREDIR}/www/concours", manage, chmod=Utils.O755)

    share = bld.path.find_dir("share")
    for node in share.ant_glob("**/*", excl=["**/__pycache__/**"]):
        relative = node.path_from(share)
        if relative in SAMPLE_PLACES:
            bld.install_files(f"${{SHAREDIR}}/{SAMPLE_PLACES[relative]}", node)
        else:
            chmod = Utils.O755 if os.access(node.abspath(), os.X_OK) else Utils.O644
            bld.install_as(f"${{SHAREDIR}}/{relative}", node, chmod=chmod)

    bld.install_files("${DOCSDIR}", bld.path.ant_glob("docs/*.md"))
