"""The package's layers, read from the source with ast: every import counts, those inside
functions too (they hid the old models <-> tournaments <-> champion_ratings cycle)."""

import ast
import os
import subprocess
import sys

from tests.conftest import ROOT

PACKAGE = os.path.join(ROOT, "stechec")


def module_name(path):
    relative = os.path.relpath(path, ROOT)[:-len(".py")].split(os.sep)
    if relative[-1] == "__init__":
        relative.pop()
    return ".".join(relative)


def modules():
    """{module name: path} of every module of stechec/."""
    found = {}
    for directory, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                found[module_name(path)] = path
    return found


def imported(path, name):
    """The modules that module `name` (at `path`) imports, anywhere in it, as written (a
    `from package import module` gives package.module when that is a module)."""
    tree = ast.parse(open(path).read(), path)
    is_package = path.endswith("__init__.py")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                parent = parts if is_package else parts[:-1]
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph():
    """{module: set of stechec modules it imports}, each edge to a module of the package."""
    found = modules()
    return {name: {target for target in imported(path, name) if target in found
                   and target != name}
            for name, path in found.items()}


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "visiting"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "visiting":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target, stack)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def test_the_import_graph_of_stechec_has_no_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path):
    """The check above can fail: a cycle closed by an import inside a function is found."""
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import g\n")
    graph = {name: {t for t in imported(str(tmp_path / f"{name}.py"), name) if t in "ab"}
             for name in ("a", "b")}
    assert find_cycle(graph) == ["a", "b", "a"]


def test_the_master_and_the_contest_never_import_the_website():
    graph = import_graph()
    offenders = sorted(f"{name} imports {target}" for name, targets in graph.items()
                       if name.startswith(("stechec.master_node", "stechec.contest"))
                       for target in targets if target.startswith("stechec.www"))
    assert offenders == []
    for directory in ("master_node", "contest"):
        for name, path in modules().items():
            if name.startswith(f"stechec.{directory}"):
                assert "stechec.www" not in open(path).read(), path


def test_the_api_imports_no_view_of_the_site():
    """What the API shares with the site's pages lives in modules of their own
    (match_lists, tournament_reports, rules...), never in a view module."""
    graph = import_graph()
    offenders = sorted(f"{name} imports {target}" for name, targets in graph.items()
                       if name.startswith("stechec.www.api")
                       for target in targets if target.startswith("stechec.www.contest.views"))
    assert offenders == []


def test_the_models_import_no_other_module_of_the_contest():
    graph = import_graph()
    assert {target for target in graph["stechec.contest.models"]
            if target.startswith("stechec.") and not target.startswith("stechec.common")} == set()


MASTER_WITHOUT_WEBSITE = """
import importlib, pkgutil, sys

class NoWebsite:
    def find_spec(self, name, path=None, target=None):
        if name == "stechec.www" or name.startswith("stechec.www."):
            raise ImportError(f"the master imported {name}")

sys.meta_path.insert(0, NoWebsite())
from stechec.master_node import main
main.configure_django({"sql": {"engine": "sqlite", "database": sys.argv[1]}})
import stechec.contest, stechec.master_node
for package in (stechec.contest, stechec.master_node):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if module.name != "stechec.master_node.main":
            importlib.import_module(module.name)
from django.core.management import call_command
call_command("migrate", verbosity=0)
print("master loaded without the website")
"""


def test_the_master_runs_its_django_and_modules_without_the_website(tmp_path):
    """As master-node sets Django up: the contest app alone, every module of the master
    and the core imported, the migrations run, with stechec.www impossible to import."""
    run = subprocess.run([sys.executable, "-c", MASTER_WITHOUT_WEBSITE,
                          str(tmp_path / "master.sqlite3")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "master loaded without the website"
