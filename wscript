#!/usr/bin/env python3
"""waf build for packagers: the prefix install of the original deployment.

    waf configure --prefix=P [--python=PYTHON] && waf build && waf install

(DESTDIR is honoured) puts master-node, worker-node and stechec-manage in
P/bin (run by the Python that configure found, finding the package without
any environment variable), the stechec package under P/lib/pythonX.Y/
site-packages, and share/ under P/share/stechec2/ with the three sample
configurations where the deployment guide expects them.
"""

import os

from waflib import Utils

APPNAME = "stechec2-server"
top = "."
out = "build"

LAUNCHERS = {
    "master-node": "stechec.master_node.main",
    "worker-node": "stechec.worker_node.main",
    "stechec-manage": "stechec.www.manage",
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

PREFIX_MODULE = '''"""Written by the waf install: where its share directory is."""

SHARE_DIR = {share!r}
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
    for module in ("django", "gevent", "yaml", "psycopg2"):
        conf.check_python_module(module)
    conf.env.SHAREDIR = os.path.join(conf.env.PREFIX, "share", "stechec2")


def build(bld):
    bld(features="py", source=bld.path.ant_glob("stechec/**/*.py", excl=["stechec/_prefix.py"]),
        install_from=".", install_path="${PYTHONDIR}")
    bld.install_files("${PYTHONDIR}", bld.path.ant_glob(
        "stechec/**/*", excl=["**/*.py", "**/*.pyc", "**/__pycache__/**"]), relative_trick=True)

    prefix_module = bld.path.find_or_declare("stechec/_prefix.py")
    bld(rule=lambda task: task.outputs[0].write(PREFIX_MODULE.format(share=bld.env.SHAREDIR)),
        target=prefix_module, vars=["SHAREDIR"])
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
