"""Where `stechec login` keeps the site's address and the token: the user's config
directory (click.get_app_dir, $XDG_CONFIG_HOME/stechec on Linux), readable by them alone."""

import json
import os

import click

FILE_NAME = "config.json"


def path():
    return os.path.join(click.get_app_dir("stechec"), FILE_NAME)


def load():
    """{"url": ..., "token": ...}; a ClickException when `stechec login` was never run."""
    try:
        with open(path(), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise click.ClickException("Not logged in: run `stechec login URL` first.") from None
    except (OSError, ValueError) as e:
        raise click.ClickException(f"Cannot read {path()}: {e}; run `stechec login URL` "
                                   f"again.") from None


def save(url, token):
    """Written under a temporary name with mode 0600, then renamed: the token is never
    readable by others, not even for a moment."""
    directory = os.path.dirname(path())
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temporary = f"{path()}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": token}, f)
    os.replace(temporary, path())
