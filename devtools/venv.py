"""The Python scripts of tools/ run with the repository's .venv, from a clean clone too.

Their shebang finds whatever `python3` is on the PATH, which may lack the
project's dependencies (gevent, Django...). `run_in_venv` is the first thing
each does, before importing any of them: the Python counterpart of what
tools/run-local does in shell. It imports nothing but the standard library,
so that any Python 3 can run it.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")


def run_in_venv(script, *extras):
    """Return at once under .venv's python; otherwise make or update .venv (tools/ensure-venv,
    with `extras`) and run `script` again with its python and the same arguments."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    ensure = subprocess.run([os.path.join(ROOT, "tools", "ensure-venv"), *extras],
                            stdout=subprocess.PIPE, text=True)
    if ensure.returncode != 0:
        # tools/ensure-venv said why on stderr.
        sys.exit(ensure.returncode)
    python = os.path.join(ensure.stdout.strip(), "python")
    os.execv(python, [python, os.path.abspath(script), *sys.argv[1:]])
