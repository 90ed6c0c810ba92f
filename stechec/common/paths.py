"""The shared directory's layout, as the original deployment had it.

Under `<contest.directory>/<game>/`:
  champions/<username>/<champion_id>/  champion.tgz (the upload), compilation.log,
                                        champion-compiled.tar.gz (the build)
  matches/<id // 1000 :03>/<id % 1000 :03>/
                                        server.log, log-champ-<matchplayer>-<champion>.log,
                                        dump.json.gz, replay
The site writes uploads; workers write everything else.
"""

import os

CHAMPION_SOURCES = "champion.tgz"
CHAMPION_COMPILED = "champion-compiled.tar.gz"
COMPILATION_LOG = "compilation.log"
SERVER_LOG = "server.log"
DUMP = "dump.json.gz"
REPLAY = "replay"


def game_dir(root, game):
    return os.path.join(root, game)


def champion_dir(root, game, username, champion_id):
    return os.path.join(root, game, "champions", username, str(champion_id))


def match_dir(root, game, match_id):
    return os.path.join(root, game, "matches", f"{match_id // 1000:03}", f"{match_id % 1000:03}")


def player_log_name(matchplayer_id, champion_id):
    return f"log-champ-{matchplayer_id}-{champion_id}.log"
