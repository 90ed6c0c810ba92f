"""Storing an uploaded champion: row and archive together, or neither.

The archive was checked by the form before we get here. The file is written
under a temporary name and renamed into place inside the transaction that
creates the row, so the master (which only sees committed rows) never finds
a champion without its `champion.tgz`; if the transaction fails the file is
removed, and if writing fails the row is rolled back.
"""

import contextlib
import logging
import os
import pwd
import shutil
import tempfile

from django.db import transaction

from stechec.common import paths
from stechec.contest.models import Champion
from stechec.www.contest import conf, limits

logger = logging.getLogger(__name__)


def store_champion(user, name, comment, uploaded, *, seeded=False):
    """Create the champion `name` of `user` from an UploadedFile; raise LimitReached.

    `seeded`: an organiser's tool puts it there, not the player: it is
    neither checked against nor counted in the player's upload rate.
    """
    root, game = conf.shared_root()
    directory = None
    try:
        with transaction.atomic():
            if not seeded:
                limits.lock_user(user)
                limits.check_upload_rate(user)
            champion = Champion.queue_for_compilation(name=name, author=user, comment=comment,
                                                      seeded=seeded)
            directory = paths.champion_dir(root, game, user.username, champion.id)
            _write_atomically(uploaded, directory, paths.CHAMPION_SOURCES)
    except BaseException:
        if directory is not None:
            _remove_upload(directory)
        raise
    logger.info("champion %d (%r) uploaded by %s", champion.id, name, user.username)
    return champion


def storage_failure(error):
    """What the operator needs to know about an OSError while storing an upload."""
    root, _ = conf.shared_root()
    uid = os.geteuid()
    try:
        user = f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        user = f"uid {uid}"
    return (f"{error}; the site runs as {user}, which must be able to create directories "
            f"and files in the shared directory (contest.directory: {root})")


def _write_atomically(uploaded, directory, name):
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            uploaded.seek(0)
            for chunk in uploaded.chunks():
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _remove_upload(directory):
    """Undo a failed upload: its directory is new and holds only what we wrote."""
    shutil.rmtree(directory, ignore_errors=True)
    logger.warning("upload rolled back: removed %s", directory)
