"""worker-node: the daemon (`worker-node [-c FILE] [-l] [-v]`), or the check of its
configuration (`worker-node --check CHAMPION.tgz`, stechec.worker_node.check)."""


def main(argv=None):
    # First: every module imported below must see cooperative sockets,
    # subprocesses and sleeps.
    from gevent import monkey
    monkey.patch_all()

    import logging
    import os
    import signal
    import sys

    import gevent
    import gevent.event

    from stechec.common import cli, config, logs
    from stechec.worker_node import check, settings
    from stechec.worker_node.service import WorkerService
    from stechec.worker_node.slots import TaskTable

    logger = logging.getLogger("stechec.worker_node")
    parser = cli.daemon_parser(settings.PROGRAM, "Compiles champions and runs matches for "
                               "the master node of a Stechec2 contest.")
    parser.add_argument("--check", metavar="CHAMPION.tgz",
                        help="do not serve: compile this champion archive (as make tar makes "
                        "it) and play it against itself with this configuration, print the "
                        "verdicts, and exit 0 if it played a whole match")
    parser.add_argument("--players", type=int, default=2,
                        help="with --check: how many seats the match has (2)")
    parser.add_argument("--map", metavar="FILE", help="with --check: the match's map")
    args = parser.parse_args(argv)
    for path, option in ((args.check, "--check"), (args.map, "--map")):
        if path is not None and not os.path.isfile(path):
            parser.error(f"argument {option}: {path} is not a file")
    if args.players < 1:
        parser.error(f"argument --players: takes 1 or more, not {args.players}")
    cfg = cli.start_daemon(settings.PROGRAM, args, settings.SCHEMA, debug_key="worker.debug")
    config_path = os.path.abspath(args.config or config.default_path(settings.PROGRAM))
    if args.check:
        # Its own contest and work directories: the check touches neither the shared
        # directory nor the work directory of a worker serving on this machine.
        directory = check.CheckDirectory()
        try:
            directory.use_in(cfg)
            workspace, tree_limits = prepare(cfg, config_path)
        except BaseException:
            directory.remove()
            raise
        try:
            status = check.run(workspace, directory, args.check, players=args.players,
                               map_path=args.map)
        finally:
            tree_limits.close()
        sys.exit(status)
    workspace, tree_limits = prepare(cfg, config_path)
    service = WorkerService(cfg, workspace, TaskTable(cfg["worker"]["available_slots"]))
    service.shared.check()
    worker = cfg["worker"]
    for serve, what, port in ((service.serve, "listen", worker["port"]),
                              (service.serve_metrics, "serve metrics", worker["metrics_port"])):
        try:
            serve()
        except OSError as e:
            logs.fatal(settings.PROGRAM, f"cannot {what} on {worker['listen']}:{port}: "
                       f"{e.strerror or e}", 1)

    stopping = gevent.event.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stopping.set)
    heartbeat = gevent.spawn(service.master.beat_forever)
    stopping.wait()
    logger.info("worker %s stopping: killing the running tasks", service.name)
    heartbeat.kill()
    service.stop()
    tree_limits.close()


def prepare(cfg, config_path):
    """The paths checked, the sandbox (its user ids claimed, bubblewrap probed, programs'
    whole trees limited where this host can) and the emptied work directory: the Workspace
    tasks run in, and the cgroups.TreeLimits the worker closes when it stops. Exits with
    one line on a problem."""
    import logging

    from stechec.common import logs
    from stechec.worker_node import cgroups, settings
    from stechec.worker_node.sandbox import Sandbox, UidsInUse
    from stechec.worker_node.workspace import Workspace

    settings.resolve_paths(cfg)
    settings.resolve_limits(cfg)
    problem = settings.check_paths(cfg)
    if problem:
        logs.fatal(settings.PROGRAM, f"configuration error: {config_path}: {problem}", 2)
    box = cfg["sandbox"]
    tree_limits = cgroups.detect()
    logging.getLogger("stechec.worker_node").info("%s", tree_limits.describe())
    try:
        sandbox = Sandbox(first_uid=box["first_uid"],
                          uid_count=cfg["worker"]["available_slots"],
                          bubblewrap=box["bubblewrap"], ro_binds=box["ro_binds"],
                          hidden=[config_path],
                          masked=[cfg["contest"]["directory"], cfg["paths"]["work_directory"]],
                          tree_limits=tree_limits)
    except UidsInUse as e:
        logs.fatal(settings.PROGRAM,
                   f"configuration error: {config_path}: sandbox.first_uid: {e}", 2)
    workspace = Workspace(cfg, sandbox, settings.hostname(cfg))
    workspace.reset()
    with workspace.private_dir("probe") as scratch:
        sandbox.probe(scratch)
    return workspace, tree_limits


if __name__ == "__main__":
    main()
