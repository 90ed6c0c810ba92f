"""The Learn pages' material: the player environment and the game's documentation.

The player environment is laid out as stechec2's generator lays it (and as
the workers read it): one folder per language holding `Makefile` (what the
player edits) and `Makefile-<language>`. Each folder is offered as an
archive of its own. The game's documentation is a directory of Markdown
(`.md`) and HTML (`.html`) files, written by the organisers: trusted, shown
as they are. See docs/website.md, "Learn".
"""

import io
import os
import re
import tarfile

import markdown

from stechec.common import share
from stechec.www.contest import conf

MAKEFILE = "Makefile"
MAKEFILE_PREFIX = "Makefile-"
DOC_SUFFIXES = (".md", ".html")
# Shown first, whatever its name sorts as.
DOC_INDEX = "index"
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<(?:title|h1)[^>]*>(.*?)</(?:title|h1)>", re.DOTALL | re.IGNORECASE)


def player_env():
    return conf.contest()["player_env"] or os.path.join(share.share_dir(), "player_env")


def languages():
    """The player environment's languages, sorted: its folders holding Makefile-<language>."""
    root = player_env()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(name for name in names
                  if os.path.isfile(os.path.join(root, name, MAKEFILE_PREFIX + name)))


def makefile_comment(language):
    """The leading comment of the language's Makefile: how to write a champion in it."""
    lines = []
    try:
        with open(os.path.join(player_env(), language, MAKEFILE), encoding="utf-8",
                  errors="replace") as f:
            for line in f:
                if not line.startswith("#"):
                    break
                lines.append(line[1:].strip())
    except OSError:
        return ""
    return " ".join(line for line in lines if line)


def pack_language(language):
    """The language's folder as a .tgz, its files under `<language>/`: bytes."""
    folder = os.path.join(player_env(), language)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for directory, subdirectories, files in os.walk(folder):
            subdirectories.sort()
            for name in sorted(files):
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    continue
                info = tar.gettarinfo(path, os.path.join(language,
                                                         os.path.relpath(path, folder)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    return buffer.getvalue()


def game_docs_dir():
    """The configured directory of the game's documentation, or the bundled game's, or
    None."""
    configured = conf.contest()["game_docs"]
    if configured:
        return configured
    bundled = os.path.join(share.share_dir(), "game_docs", conf.contest()["game"])
    return bundled if os.path.isdir(bundled) else None


def game_docs():
    """[(slug, title)] of the game's documents: the index first, then by file name."""
    directory = game_docs_dir()
    if directory is None:
        return []
    documents = {}
    # In name order, so that of a page in both forms the Markdown one (.md, after .html)
    # is the page, as render_game_doc reads it.
    for name in sorted(os.listdir(directory)):
        slug, suffix = os.path.splitext(name)
        if suffix in DOC_SUFFIXES and os.path.isfile(os.path.join(directory, name)):
            documents[slug] = name
    return [(slug, _title(os.path.join(directory, documents[slug]), slug))
            for slug in sorted(documents, key=lambda slug: (slug != DOC_INDEX, slug))]


def render_game_doc(slug):
    """(title, HTML) of the document `slug`, or None when there is none."""
    title = dict(game_docs()).get(slug)
    if title is None:
        return None
    directory = game_docs_dir()
    for suffix in DOC_SUFFIXES:
        path = os.path.join(directory, slug + suffix)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if suffix == ".md":
                return title, markdown.markdown(text, extensions=["tables", "fenced_code"])
            body = _BODY.search(text)
            return title, body[1] if body else text
    return None


def _title(path, slug):
    """A document's first heading (Markdown `# ...`, HTML <title> or <h1>), else its name."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read(64 * 1024)
    if path.endswith(".md"):
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        title = heading[1] if heading else ""
    else:
        found = _TITLE.search(text)
        title = re.sub(r"<[^>]+>", "", found[1]) if found else ""
    return title.strip().strip("`") or slug.replace("-", " ").replace("_", " ")
