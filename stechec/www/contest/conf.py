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
