"""tools/run-local: the whole cluster on this machine, until Ctrl-C."""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.parse

from stechec.local.cluster import LocalCluster
from stechec.local.processes import ProcessFailed


def postgres_section(url):
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("postgres", "postgresql") or not parsed.path.strip("/"):
        raise SystemExit(f"run-local: --postgres takes postgresql://USER[:PASSWORD]@HOST[:PORT]/"
                         f"DATABASE, not {url!r}")
    return {"engine": "postgresql", "host": parsed.hostname or "localhost",
            "port": parsed.port or 5432, "user": urllib.parse.unquote(parsed.username or ""),
            "password": urllib.parse.unquote(parsed.password or ""),
            "database": parsed.path.strip("/")}


def parse_arguments():
    parser = argparse.ArgumentParser(
        prog="run-local", description="Set up and run the whole Stechec2 cluster on this "
        "machine: website, master node and worker nodes, with the bundled reference game.")
    parser.add_argument("--var", default="var", help="where its state lives (default: ./var)")
    parser.add_argument("--postgres", metavar="URL",
                        help="use this PostgreSQL database instead of SQLite in --var")
    parser.add_argument("--game", default="tictactoe", choices=("tictactoe", "goldrush"))
    parser.add_argument("--port", type=int, default=8000, help="the website's port (8000)")
    parser.add_argument("--master-port", type=int, default=8067)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=os.cpu_count() * 2,
                        help="slots per worker (default: twice the cores)")
    return parser.parse_args()


def _interrupt(signum, frame):
    """SIGTERM (as from a service manager) stops the cluster like Ctrl-C."""
    raise KeyboardInterrupt


def main():
    args = parse_arguments()
    cluster = LocalCluster(
        args.var, game=args.game, sql=postgres_section(args.postgres) if args.postgres else None,
        workers=args.workers, slots=args.slots, site_port=args.port,
        master_port=args.master_port,
        worker_ports=[args.master_port + 1 + i for i in range(args.workers)])
    cluster.write_configs()
    print(f"run-local: configuration in {cluster.var_dir}, shared directory "
          f"{cluster.shared_dir}", flush=True)
    try:
        cluster.manage("migrate", "--no-input", "-v", "0")
        subprocess.run([sys.executable, "-m", "stechec.local.seed",
                        cluster.path("accounts.json")], env=cluster.environment(), check=True)
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"run-local: setting up the database failed ({e})") from None

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        cluster.start()
        print(f"\nrun-local: the contest is at {cluster.url} (logs in {cluster.path('logs')});"
              " Ctrl-C stops everything.", flush=True)
        while not cluster.supervisor.failed():
            time.sleep(0.5)
        for service in cluster.supervisor.failed():
            print(f"run-local: {service.name} exited with status "
                  f"{service.process.returncode}:\n{service.log_tail()}", file=sys.stderr)
        status = 1
    except ProcessFailed as e:
        print(f"run-local: {e}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        status = 0
    finally:
        print("\nrun-local: stopping every process it started", flush=True)
        cluster.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
