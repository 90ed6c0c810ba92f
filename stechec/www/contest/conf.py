"""The sections of website.yml, read at request time (tests override settings.STECHEC)."""

from django.conf import settings


def website():
    return settings.STECHEC["website"]


def contest():
    return settings.STECHEC["contest"]


def master():
    return settings.STECHEC["master"]


def shared_root():
    """The shared directory and the game, as paths.* take them."""
    return contest()["directory"], contest()["game"]


# Bundled games that play without a map: the default of contest.uses_maps.
GAMES_WITHOUT_MAPS = ("tictactoe",)


def uses_maps():
    """Whether matches of this contest's game are played on a map (contest.uses_maps)."""
    configured = contest().get("uses_maps")
    return contest()["game"] not in GAMES_WITHOUT_MAPS if configured is None else configured
