"""Contest data for a LocalCluster, made directly in its database (no website involved).

For tests and benchmarks that run in a Django process on the cluster's own
database (pytest-django's test database, say): the `sql` section that points
the cluster's programs at that database, champions queued for compilation
with their sources in the cluster's shared directory (what the upload form
does), and a wait for them to compile.
"""

import os
import time

from stechec.common import paths
from stechec.local.seed import source_archive


def sql_section(connection):
    """The `sql` section of the database behind Django connection `connection`."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"engine": "sqlite", "database": settings["NAME"]}
    return {"engine": "postgresql", "host": settings["HOST"] or "127.0.0.1",
            "port": int(settings["PORT"] or 5432), "user": settings["USER"],
            "password": settings["PASSWORD"], "database": settings["NAME"]}


def queue_champion(cluster, author, name, source_dir, archive=None):
    """A champion of `author` from the sources in `source_dir` (or from `archive`, the
    bytes of a champion.tgz, when given), queued for compilation."""
    from stechec.contest.models import Champion

    champion = Champion.queue_for_compilation(name=name, author=author)
    directory = paths.champion_dir(cluster.shared_dir, cluster.game, author.username,
                                   champion.id)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f".{paths.CHAMPION_SOURCES}.tmp")
    with open(temporary, "wb") as f:
        f.write(source_archive(source_dir).read() if archive is None else archive)
    os.replace(temporary, os.path.join(directory, paths.CHAMPION_SOURCES))
    return champion


def wait_compiled(champions, timeout=120):
    """Wait until every champion is ready; raise naming the first that failed or lingers."""
    from stechec.contest.models import Champion

    ids = [c.id for c in champions]
    deadline = time.monotonic() + timeout
    while True:
        statuses = dict(Champion.objects.filter(pk__in=ids).values_list("pk", "status"))
        broken = [pk for pk, status in statuses.items()
                  if status in (Champion.Status.ERROR, Champion.Status.FAILED)]
        if broken:
            champion = Champion.objects.get(pk=broken[0])
            raise RuntimeError(f"champion {champion.id} ({champion.name}) did not compile: "
                               f"{champion.status}: {champion.failure_reason}")
        if all(status == Champion.Status.READY for status in statuses.values()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"champions not compiled after {timeout} s: {statuses}")
        time.sleep(0.2)
