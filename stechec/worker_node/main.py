"""worker-node: the daemon (`worker-node [-c FILE] [-l] [-v]`)."""


def main(argv=None):
    # First: every module imported below must see cooperative sockets,
    # subprocesses and sleeps.
    from gevent import monkey
    monkey.patch_all()

    import logging
    import os
    import signal

    import gevent
    import gevent.event

    from stechec.common import cli, config, logs
    from stechec.worker_node import cgroups, settings
    from stechec.worker_node.sandbox import Sandbox, UidsInUse
    from stechec.worker_node.service import WorkerService
    from stechec.worker_node.slots import TaskTable
    from stechec.worker_node.workspace import Workspace

    logger = logging.getLogger("stechec.worker_node")
    parser = cli.daemon_parser(settings.PROGRAM, "Compiles champions and runs matches for "
                               "the master node of a Stechec2 contest.")
    args = parser.parse_args(argv)
    cfg = settings.resolve_paths(cli.start_daemon(settings.PROGRAM, args, settings.SCHEMA,
                                                  debug_key="worker.debug"))
    config_path = os.path.abspath(args.config or config.default_path(settings.PROGRAM))
    problem = settings.check_paths(cfg)
    if problem:
        logs.fatal(settings.PROGRAM, f"configuration error: {config_path}: {problem}", 2)
    box = cfg["sandbox"]
    tree_limits = cgroups.detect()
    logger.info("%s", tree_limits.describe())
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
    service = WorkerService(cfg, workspace, TaskTable(cfg["worker"]["available_slots"]))
    service.shared.check()
    try:
        service.serve()
    except OSError as e:
        worker = cfg["worker"]
        logs.fatal(settings.PROGRAM, f"cannot listen on {worker['listen']}:{worker['port']}: "
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


if __name__ == "__main__":
    main()
