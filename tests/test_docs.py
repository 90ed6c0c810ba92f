"""Every place README.md and docs/*.md send a reader exists: relative links, backticked
repository paths (`stechec/...`, `tools/...`) and dotted module names (`stechec.x.y`)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The top directories of the checkout a backticked path may start with.
TOP_DIRECTORIES = ("stechec", "share", "tools", "tests", "docs", "devtools")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(rf"^(?:{'|'.join(TOP_DIRECTORIES)})/[\w./-]*$")
MODULE = re.compile(rf"^(?:{'|'.join(TOP_DIRECTORIES)})(?:\.\w+)+$")
# A Django system check's id (`stechec.E001`), not a module.
CHECK_ID = re.compile(r"\.[A-Z]\d{3}$")


def relative_links(text):
    for target in LINK.findall(text):
        if not re.match(r"^[a-z]+:|^#", target):
            yield target.split("#")[0]


def repository_paths(text):
    """Backticked paths into the checkout: the first word of a command (`tools/chaos
    --short`), without a trailing `:line`; patterns (`*`, `{a,b}`, `<name>`) are left out."""
    for code in CODE.findall(text):
        word = re.sub(r":\d+$", "", code.split()[0]) if code.split() else ""
        if PATH.match(word):
            yield word


def missing_module(name):
    """What of dotted `name` names nothing: each component a package or module of the
    checkout, then at most one attribute defined in the last module; None when all does."""
    parts = name.split(".")
    path = ROOT / parts[0]
    for index, part in enumerate(parts[1:], start=1):
        if (path / part).is_dir():
            path = path / part
        elif (path / f"{part}.py").is_file():
            path = path / f"{part}.py"
        elif path.suffix == ".py" and index == len(parts) - 1:
            defined = re.search(rf"^\s*(?:class|def) {part}\b|^{part}\s*=", path.read_text(),
                                re.MULTILINE)
            return None if defined else name
        else:
            return name
    return None


def problems(document):
    text = document.read_text()
    found = []
    for target in relative_links(text):
        if target and not (document.parent / target).exists():
            found.append(f"link ({target})")
    for path in repository_paths(text):
        if not (ROOT / path).exists():
            found.append(f"`{path}`")
    for name in CODE.findall(text):
        if MODULE.match(name) and not CHECK_ID.search(name) and missing_module(name):
            found.append(f"`{name}`")
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_link_and_repository_path_resolves(document):
    assert problems(document) == []


# A manual named anywhere (code, tests, tools, manuals): `docs/rpc.md`, or `rpc.md` alone.
MANUAL = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b")
SOURCES = ["stechec", "devtools", "tools", "tests"]


def manuals_named_nowhere(path):
    """The manuals `path`'s text names that the checkout does not hold (one outside it,
    `../shared/stechec2-engine/README.md`, is another project's to keep)."""
    missing = []
    for name in MANUAL.findall(path.read_text(errors="replace")):
        if name.startswith("../"):
            continue
        if "/" in name:
            exists = (ROOT / name).exists() or (path.parent / name).exists()
        else:
            exists = name == "README.md" or (ROOT / "docs" / name).exists()
        if not exists:
            missing.append(name)
    return missing


def test_the_code_and_the_manuals_name_only_manuals_that_exist():
    files = [*DOCUMENTS, *(p for top in SOURCES for p in (ROOT / top).rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts
                           and p.suffix != ".pyc" and p != Path(__file__))]
    found = {str(p.relative_to(ROOT)): manuals_named_nowhere(p) for p in files}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_check_finds_what_points_nowhere(tmp_path):
    document = tmp_path / "guide.md"
    document.write_text("See [the manual](missing.md#top), [the site](https://example.org), "
                        "`tools/no-such-tool --help`, `stechec/common/rpc.py:12`, "
                        "`stechec.common.rpc.RPCClient`, `stechec.common.no_such_module` "
                        "and `stechec.common.rpc.no_such_name`.\n")
    assert problems(document) == ["link (missing.md)", "`tools/no-such-tool`",
                                  "`stechec.common.no_such_module`",
                                  "`stechec.common.rpc.no_such_name`"]
    source = tmp_path / "module.py"
    source.write_text('"""See docs/lifecycle.md, DESIGN.md, rpc.md, docs/rpc.md and '
                      '../shared/engine/README.md."""\n')
    assert manuals_named_nowhere(source) == ["docs/lifecycle.md", "DESIGN.md"]


def test_the_worker_nodes_module_list_names_every_module():
    import stechec.worker_node

    modules = sorted(p.stem for p in (ROOT / "stechec" / "worker_node").glob("*.py")
                     if p.stem != "__init__")
    assert [m for m in modules if f"`{m}`" not in stechec.worker_node.__doc__] == []
