"""Helpers for the website's tests: archives, champions, files in the shared directory."""

import gzip
import html
import json
import os
import time

from django.core.files.uploadedfile import SimpleUploadedFile

from devtools.archives import tgz
from stechec.common import paths
from stechec.contest.models import Champion, Match


def text(response):
    """A page's text with HTML entities decoded, for plain `in` checks."""
    return html.unescape(response.content.decode())


def make_tgz(members=None, *, raw=None):
    """A .tgz in memory: `members` maps names to bytes (or a TarInfo-tweaking callable)."""
    if raw is not None:
        return raw
    return tgz(members or {"champion.py": b"print('hi')\n"})


def upload_file(data, name="champion.tgz"):
    return SimpleUploadedFile(name, data, content_type="application/gzip")


def ready_champion(author, name="champ", **fields):
    return Champion.objects.create(name=name, author=author, status=Champion.Status.READY,
                                   language="python", **fields)


def champion_file(site, champion, name):
    return os.path.join(paths.champion_dir(site["contest"]["directory"], site["contest"]["game"],
                                           champion.author.username, champion.pk), name)


def match_file(site, match, name):
    directory = paths.match_dir(site["contest"]["directory"], site["contest"]["game"], match.pk)
    return os.path.join(directory, name)


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tictactoe_dump(players):
    states = [
        {"turn": 0, "board": [[None] * 3 for _ in range(3)], "last_move": None, "to_play": 0},
        {"turn": 1, "board": [[0, None, None], [None] * 3, [None] * 3], "last_move": [0, 0],
         "to_play": 1},
        {"turn": 2, "board": [[0, None, None], [None, 1, None], [None] * 3], "last_move": [1, 1],
         "to_play": 0, "winner": 1},
    ]
    return gzip.compress(json.dumps({"game": "tictactoe", "players": players,
                                     "states": states}).encode())


def finished_match(author, champions, **fields):
    match = Match.launch(champions, author=author)
    Match.objects.filter(pk=match.pk).update(status=Match.Status.DONE, **fields)
    match.refresh_from_db()
    return match


# What the stand-in master's status() returns (docs/rpc.md's shape).
STATUS = {
    "workers": [
        {"hostname": "worker-b", "port": 8068, "free_slots": 1, "max_slots": 4,
         "running": [{"kind": "match", "id": 42, "attempt": 1, "seconds": 75.4},
                     {"kind": "compile", "id": 7, "attempt": 2, "seconds": 3.2}],
         "last_heartbeat": time.time()},
        {"hostname": "worker-a", "port": 8068, "free_slots": 2, "max_slots": 2, "running": [],
         "last_heartbeat": time.time()},
    ],
    "queue": {"champions": {"new": 3, "pending": 1},
              "matches": {"new": {"player": 5, "tournament": 11, "background": 13},
                          "pending": 2},
              "oldest_waiting_secs": 3725.0},
    # 4 tasks a minute over the complete minutes: the 8 tasks ahead of a new player's
    # match and itself take 135 s.
    "throughput": {"minutes": 15, "compile": [1] * 14 + [9], "match": [3] * 14 + [0]},
}
