"""tools/run-local: the whole cluster on this machine, until Ctrl-C."""

import signal
import subprocess
import sys
import time

from stechec.local import options
from stechec.local.cluster import LocalCluster
from stechec.local.processes import ProcessFailed


def set_up(cluster):
    """Configuration, database and first-run data; False (having said why) if it failed."""
    cluster.write_configs()
    runtime = (f"the stechec2 engine in {cluster.engine.prefix}" if cluster.engine
               else "the bundled runtime")
    print(f"run-local: configuration in {cluster.var_dir}, shared directory "
          f"{cluster.shared_dir}; {cluster.game} on {runtime}", flush=True)
    try:
        cluster.manage("migrate", "--no-input", "-v", "0")
        engine = [cluster.engine.prefix] if cluster.engine else []
        subprocess.run([sys.executable, "-m", "stechec.local.seed",
                        cluster.path("accounts.json"), *engine], env=cluster.environment(),
                       check=True)
    except subprocess.CalledProcessError as e:
        print(f"run-local: setting up the database failed ({e})", file=sys.stderr)
        return False
    return True


def serve(cluster):
    """Start every program and watch them until one fails (1) or Ctrl-C (0)."""
    try:
        cluster.start()
        # run-local's alone: the clusters tests and campaigns start send no webhooks.
        cluster.supervisor.start(cluster.webhook_sender())
        print(f"\nrun-local: the contest is at {cluster.url} (logs in {cluster.path('logs')});"
              " Ctrl-C stops everything.", flush=True)
        if not cluster.worker_ports:
            print("run-local: no worker node (--workers 0): champions and matches wait in the "
                  "queue until a worker joins the master.", flush=True)
        while not cluster.supervisor.failed():
            time.sleep(0.5)
        for service in cluster.supervisor.failed():
            print(f"run-local: {service.name} exited with status "
                  f"{service.process.returncode}:\n{service.log_tail()}", file=sys.stderr)
        return 1
    except ProcessFailed as e:
        print(f"run-local: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nrun-local: stopping every process it started", flush=True)
        cluster.stop()


def main():
    args = options.parse()
    # Ctrl-C, and SIGTERM from a service manager, stop the cluster. Set
    # explicitly: Python leaves SIGINT ignored when it starts with it ignored,
    # as a script's background job does.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        cluster = LocalCluster(
            args.var, game=args.game, sql=args.postgres, workers=args.workers,
            slots=args.slots, site_port=args.port, master_port=args.master_port,
            worker_ports=[args.master_port + 1 + i for i in range(args.workers)],
            first_uid=args.first_uid, engine=args.engine_game,
            worker_settings={} if args.dump is None else {"match": {"dump": args.dump}})
        taken = cluster.taken_port()
        if taken:
            port, program = taken
            print(f"run-local: port {port} ({program}'s) is already in use on 127.0.0.1: is "
                  "another run-local, or a program one left, still running? Stop it, or choose "
                  "other ports (--port, --master-port)", file=sys.stderr)
            return 1
        if not set_up(cluster):
            return 1
    except KeyboardInterrupt:
        print("\nrun-local: interrupted before the cluster started", file=sys.stderr)
        return 130
    return serve(cluster)


if __name__ == "__main__":
    sys.exit(main())
