"""A game of the upstream stechec2 engine, installed under a prefix, for a local cluster.

The prefix is laid out as stechec2's own waf installs it (`./waf.py configure
--prefix=P --libdir=P/lib --with-games=GAME`, `./waf.py build install`; the
engine's README states it):

    P/bin/stechec2-server, P/bin/stechec2-client
    P/lib/libstechec2.so, P/lib/lib<game>.so          (no rpath: LD_LIBRARY_PATH=P/lib)
    P/share/stechec2/<game>/player_env/<lang>/Makefile-<lang>

`EngineGame.worker_sections()` is what a worker's configuration takes from
it. Standard library only: tools/run-local checks `--engine` with it before
the virtual environment is built.
"""

import os
import re
import shutil
import subprocess
import tempfile

GAME_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Games known not to implement dump_state: the engine's server aborts on --dump (status
# 134) for them. Contest games dump.
GAMES_WITHOUT_DUMP = {"tictactoe"}
# Sample champions written with the engine's generated API, under the share directory:
# <SAMPLES_DIR>/<game>/<language folder>-<what it plays>/ holding the player's files.
SAMPLES_DIR = "stechec2-champions"


class EngineGame:
    def __init__(self, prefix, game, dump=None):
        self.prefix = os.path.abspath(prefix)
        self.game = game
        self.dump = game not in GAMES_WITHOUT_DUMP if dump is None else dump
        self.server = os.path.join(self.prefix, "bin", "stechec2-server")
        self.client = os.path.join(self.prefix, "bin", "stechec2-client")
        self.lib = os.path.join(self.prefix, "lib")
        self.rules = os.path.join(self.lib, f"lib{game}.so")
        self.player_env = os.path.join(self.prefix, "share", "stechec2", game, "player_env")

    def problem(self):
        """One line saying what the prefix lacks for this game, or None."""
        if not GAME_NAME.fullmatch(self.game):
            return f"{self.game!r} is not a game name (lower-case letters, digits, _)"
        if not os.path.isdir(self.prefix):
            return f"{self.prefix} is not a directory"
        for program in (self.server, self.client):
            if not (os.path.isfile(program) and os.access(program, os.X_OK)):
                return (f"{self.prefix} has no {os.path.relpath(program, self.prefix)}: is "
                        "it the prefix the engine was installed under (./waf.py configure "
                        "--prefix=...)?")
        if not os.path.isfile(self.rules):
            games = sorted(name[3:-3] for name in os.listdir(self.lib)
                           if name.startswith("lib") and name.endswith(".so")
                           and name != "libstechec2.so") if os.path.isdir(self.lib) else []
            return (f"{self.prefix} has no lib/lib{self.game}.so (games installed there: "
                    f"{', '.join(games) or 'none'}; --with-games=GAME installs one)")
        if not os.path.isdir(self.player_env):
            return (f"{self.prefix} has no share/stechec2/{self.game}/player_env (the game's "
                    "generated player environment)")
        return None

    def worker_sections(self):
        """The sections of worker-node.yml that run this game: `paths` and `match.dump`."""
        return {
            "paths": {"stechec_server": self.server, "stechec_client": self.client,
                      "rules": self.rules, "player_env": self.player_env,
                      "champion_artifact": "champion.so",
                      "env": {"LD_LIBRARY_PATH": self.lib}},
            "match": {"dump": self.dump},
        }


def sample_language(name):
    """The language folder of sample `name`, named <language folder>-<what it plays>."""
    return name.split("-", 1)[0]


class PackingFailed(Exception):
    """`make tar` failed in the player environment."""


def make_tar(player_env, language, sources=None, env=None):
    """The bytes of champion.tgz as a player makes it: a copy of `player_env/<language>/`,
    the files of the directory `sources` (if any) over the generated ones, `make tar`."""
    with tempfile.TemporaryDirectory(prefix="stechec-pack-") as work:
        folder = os.path.join(work, language)
        shutil.copytree(os.path.join(player_env, language), folder)
        for name in sorted(os.listdir(sources)) if sources else ():
            shutil.copy(os.path.join(sources, name), folder)
        made = subprocess.run(["make", "tar"], cwd=folder, capture_output=True, text=True,
                              timeout=120, env=env)
        if made.returncode != 0:
            raise PackingFailed(f"make tar in {os.path.join(player_env, language)} exited with "
                                f"status {made.returncode}: {(made.stdout + made.stderr)[-2000:]}")
        with open(os.path.join(folder, "champion.tgz"), "rb") as f:
            return f.read()
