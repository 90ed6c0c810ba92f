"""First-run data for a local cluster: accounts, the game's maps, sample champions.

Run in the site's environment (`python -m stechec.local.seed ACCOUNTS_FILE
[ENGINE_PREFIX]`): creates an organiser and two players whose passwords are
kept in ACCOUNTS_FILE, then, once, the bundled maps and sample champions of
the contest's game (half of the samples for each player, stored by the same
code as the upload form but marked seeded: they are not the players'
uploads, so they may upload their own at once). With the prefix of an
upstream engine (stechec.local.engine), the samples are those written with
that game's generated API, packed by its player environment's `make tar` as
a player packs them, and the bundled game's maps are left out. Running it
again changes nothing and prints the same accounts.
"""

import io
import json
import os
import secrets
import sys
import tarfile

ACCOUNTS = [("organiser", True), ("alice", False), ("bob", False)]


def samples_dir(game):
    from stechec.common import share
    return os.path.join(share.share_dir(), "champions", game)


def maps_dir(game):
    from stechec.common import share
    return os.path.join(share.share_dir(), "maps", game)


def source_archive(directory):
    """The sample's sources as the .tgz a player would upload."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, name), arcname=name)
    buffer.seek(0)
    return buffer


def accounts(path):
    from django.contrib.auth.models import User

    try:
        with open(path) as f:
            passwords = json.load(f)
    except FileNotFoundError:
        passwords = {}
    for username, staff in ACCOUNTS:
        password = passwords.setdefault(username, secrets.token_urlsafe(9))
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = staff
        user.set_password(password)
        user.save()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as f:
        json.dump(passwords, f)
    return passwords


def maps(game, author):
    from stechec.contest.models import Map

    directory = maps_dir(game)
    if Map.objects.exists() or not os.path.isdir(directory):
        return 0
    names = sorted(n for n in os.listdir(directory) if n.endswith(".map"))
    for name in names:
        with open(os.path.join(directory, name)) as f:
            Map.objects.create(author=author, name=name[:-len(".map")], official=True,
                               contents=f.read())
    return len(names)


def engine_samples_dir(game):
    from stechec.common import share
    from stechec.local.engine import SAMPLES_DIR
    return os.path.join(share.share_dir(), SAMPLES_DIR, game)


def champions(game, players, engine=None):
    """Store the samples once, in turn for each of `players`; `engine`: an EngineGame whose
    player environment packs them."""
    from django.core.files import File

    from stechec.contest.models import Champion
    from stechec.local.engine import make_tar, sample_language
    from stechec.www.contest.uploads import store_champion

    directory = engine_samples_dir(game) if engine else samples_dir(game)
    if Champion.objects.exists() or not os.path.isdir(directory):
        return 0
    names = sorted(os.listdir(directory))
    for index, name in enumerate(names):
        author = players[index % len(players)]
        sources = os.path.join(directory, name)
        packed = (io.BytesIO(make_tar(engine.player_env, sample_language(name), sources))
                  if engine else source_archive(sources))
        with File(packed, name=f"{name}.tgz") as upload:
            store_champion(author, name, "bundled sample champion", upload, seeded=True)
    return len(names)


def main():
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User

    from stechec.local.engine import EngineGame

    game = settings.STECHEC["contest"]["game"]
    engine = EngineGame(sys.argv[2], game) if len(sys.argv) > 2 else None
    passwords = accounts(sys.argv[1])
    users = {u.username: u for u in User.objects.filter(username__in=passwords)}
    players = [users[name] for name, staff in ACCOUNTS if not staff]
    loaded_maps = 0 if engine else maps(game, users["organiser"])
    loaded_champions = champions(game, players, engine)
    if loaded_maps or loaded_champions:
        print(f"loaded {loaded_maps} maps and {loaded_champions} sample champions of {game}")
    for name, staff in ACCOUNTS:
        role = "organiser (staff, admin)" if staff else "player"
        print(f"  {name:10} password {passwords[name]:14} {role}")


if __name__ == "__main__":
    main()
