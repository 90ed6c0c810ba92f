"""master-node: the daemon's entry point.

gevent's patching comes first, before anything opens a socket or imports
Django or psycopg2; then psycogreen's wait callback, so that every
PostgreSQL query yields to the hub instead of blocking it; then Django,
configured from master-node.yml alone, with the contest's models
(stechec.contest) and not the website.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.event import AsyncResult  # noqa: E402
from psycogreen.gevent import patch_psycopg  # noqa: E402

from stechec.common import cli  # noqa: E402
from stechec.common.database import django_database, error_line  # noqa: E402
from stechec.master_node.config import MASTER_SCHEMA, PROGRAM  # noqa: E402

logger = logging.getLogger(__name__)


def configure_django(config):
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": django_database(config["sql"])},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "stechec.contest"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEBUG=False,
    )
    django.setup()


def run(config):
    from django.db import DatabaseError

    from stechec.common import metrics as metrics_server
    from stechec.common.rpc import RPCServer
    from stechec.contest import transitions
    from stechec.master_node import metrics
    from stechec.master_node.controls import Controls
    from stechec.master_node.database import Database
    from stechec.master_node.dispatcher import Dispatcher
    from stechec.master_node.janitor import Janitor
    from stechec.master_node.ladder_runner import LadderRunner
    from stechec.master_node.service import MasterService
    from stechec.master_node.tournament_runner import TournamentRunner
    from stechec.master_node.watcher import QueueWatcher
    from stechec.master_node.workers import WorkerRegistry

    master = config["master"]
    sqlite = config["sql"]["engine"] == "sqlite"
    database = Database(1 if sqlite else config["dispatch"]["connections"])
    try:
        champions, matches = database.call(transitions.reset_pending)
    except DatabaseError as e:
        logger.error("database %s is not usable: %s (did `stechec-manage migrate` run?)",
                     config["sql"]["database"], error_line(e))
        return 1
    if champions or matches:
        logger.info("put %d champions and %d matches left pending back in the queue",
                    champions, matches)
    registry = WorkerRegistry(master["shared_secret"], config["worker"]["rpc_timeout_secs"])
    dispatcher = Dispatcher(database, registry, config)
    controls = Controls(database, registry, dispatcher, config["sql"]["engine"])
    # Before the dispatcher starts: a contest paused stays paused through a restart.
    controls.load()
    server = RPCServer(master["shared_secret"], PROGRAM)
    MasterService(database, registry, dispatcher, config).register(server)
    try:
        server.serve(master["host"], master["port"])
    except OSError as e:
        logger.error("cannot listen on %s:%d: %s", master["host"], master["port"], e.strerror)
        return 1
    logger.info("game %s: listening on %s:%d (%s database %s)", master["game"], master["host"],
                server.port, config["sql"]["engine"], config["sql"]["database"])
    if master["metrics_port"] is not None:
        metrics.watch(registry, database, dispatcher)
        try:
            metrics_server.serve(master["host"], master["metrics_port"])
        except OSError as e:
            logger.error("cannot serve metrics on %s:%d: %s", master["host"],
                         master["metrics_port"], e.strerror)
            return 1
    greenlets = [gevent.spawn(dispatcher.run), gevent.spawn(controls.run),
                 gevent.spawn(Janitor(registry, dispatcher, config).run),
                 gevent.spawn(TournamentRunner(database, dispatcher, config).run)]
    if config["ladder"]["enabled"]:
        greenlets.append(gevent.spawn(LadderRunner(database, dispatcher, config).run))
    if not sqlite:
        greenlets.append(gevent.spawn(QueueWatcher(config["sql"], dispatcher, controls).run))
    signalled = AsyncResult()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, signalled.set, signum)
    # Each loops forever: one that ends has crashed, and the master with it.
    stopped = gevent.wait(greenlets + [signalled], count=1)[0]
    if stopped is signalled:
        logger.warning("stopping on %s: the %d tasks in flight go back to the queue when a "
                       "master starts again", signal.Signals(signalled.get()).name,
                       len(registry.assignments))
        return 0
    logger.error("%s stopped: %r", stopped, stopped.exception)
    return 1


def main(argv=None):
    parser = cli.daemon_parser(PROGRAM, "Hands the contest's queued compilations and matches "
                               "to worker nodes and records their results.")
    args = parser.parse_args(argv)
    config = cli.start_daemon(PROGRAM, args, MASTER_SCHEMA, debug_key="master.debug")
    patch_psycopg()
    configure_django(config)
    sys.exit(run(config))


if __name__ == "__main__":
    main()
