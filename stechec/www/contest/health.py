"""Whether the site can serve: its database answers and has every migration applied.

Without this a site on an unreachable or unmigrated database served its home
page and then a server error at login. Three places ask:
- the WSGI entry point (stechec.www.wsgi), when gunicorn loads the site: it
  refuses to start, with one line saying why;
- `/health`, for a load balancer or a monitoring probe: 200 `ok`, or 503 and
  the reason;
- `stechec-manage check --database default` (reachable) and
  `stechec-manage check --deploy --database default` (also migrated), Django
  system checks (the migrations one is a deployment check: `migrate` itself
  runs the database checks first, and must not refuse an unmigrated database).
"""

import logging
import os

from django.core import checks
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from stechec.common import paths
from stechec.common.database import error_line
from stechec.www.contest import conf

logger = logging.getLogger(__name__)

# Aliases whose migrations were all found applied: new migrations come with
# new code, which a restart loads.
_migrated = set()


def _name(alias):
    return connections[alias].settings_dict["NAME"]




def unreachable(alias="default"):
    """Why the database cannot be used, or None when a query gets its answer."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        return f"database {_name(alias)} cannot be reached: {error_line(e)}"
    return None


def unmigrated(alias="default"):
    """Why the schema is not the code's (migrations not applied), or None."""
    if alias in _migrated:
        return None
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as e:
        return f"database {_name(alias)} cannot be reached: {error_line(e)}"
    if plan:
        return (f"database {_name(alias)} is not migrated: {len(plan)} migrations not applied "
                f"(first {plan[0][0].app_label}.{plan[0][0].name}); run `stechec-manage migrate`")
    _migrated.add(alias)
    return None


def problem(alias="default"):
    """Why the site cannot serve, or None."""
    return unreachable(alias) or unmigrated(alias)


def prepare_shared_directory():
    """Make `<contest.directory>/<game>/`, which workers look for to tell the share from an
    empty mount point (stechec.worker_node.shared); a warning when it cannot be made."""
    directory, game = conf.shared_root()
    try:
        os.makedirs(paths.game_dir(directory, game), exist_ok=True)
    except OSError as e:
        logger.warning("cannot make the game's directory in the shared directory %s: %s",
                       directory, e.strerror or e)


@never_cache
def health(request):
    why = problem()
    if why is not None:
        return HttpResponse(f"{why}\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@checks.register(checks.Tags.database)
def check_database(app_configs, databases=None, **kwargs):
    return [checks.Error(why, id="stechec.E001") for why in map(unreachable, databases or [])
            if why is not None]


@checks.register(checks.Tags.database, deploy=True)
def check_migrations(app_configs, databases=None, **kwargs):
    return [checks.Error(why, id="stechec.E002") for why in map(unmigrated, databases or [])
            if why is not None]
