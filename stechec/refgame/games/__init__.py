"""The reference games, by name.

A game holds the whole state of one match and the rules; the server asks it
who plays, what each champion is told, applies the answers and reads scores.
"""

import os

from stechec.refgame.games.goldrush import GoldRush
from stechec.refgame.games.tictactoe import TicTacToe

GAMES = {game.name: game for game in (TicTacToe, GoldRush)}


class UnknownGame(ValueError):
    pass


def game_class(rules):
    """The game that `--rules` names: a game name or a path such as libtictactoe.so."""
    name = os.path.basename(rules)
    for suffix in (".so", ".dylib", ".dll"):
        name = name.removesuffix(suffix)
    if name not in GAMES and name.startswith("lib"):
        name = name[len("lib"):]
    if name not in GAMES:
        raise UnknownGame(f"--rules {rules!r}: unknown game {name!r} "
                          f"(known: {', '.join(sorted(GAMES))})")
    return GAMES[name]
