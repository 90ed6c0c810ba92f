"""A throwaway PostgreSQL server of our own, which tools/chaos may restart.

The PostgreSQL the tests share (127.0.0.1:5432) must never be restarted;
`PrivatePostgres` makes its own cluster instead: `initdb` into a temporary
directory, `pg_ctl start` on a free loopback port, trust authentication for
local connections only. initdb refuses to run as root, so as root every
command runs as the `postgres` user (runuser). `stop()` removes everything.
"""

import glob
import logging
import os
import pwd
import shutil
import subprocess
import tempfile

from stechec.local.cluster import free_port

logger = logging.getLogger(__name__)


def binaries_dir():
    """The newest installed PostgreSQL's bin directory (Debian's layout)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda path: int(path.split("/")[4]))
    if not found:
        raise FileNotFoundError("no PostgreSQL server under /usr/lib/postgresql/*/bin")
    return os.path.dirname(found[-1])


class PrivatePostgres:
    """One PostgreSQL server in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, parent=None, port=None, os_user="postgres"):
        self.bin = binaries_dir()
        self.directory = tempfile.mkdtemp(prefix="stechec-pg-", dir=parent)
        self.data = os.path.join(self.directory, "data")
        self.log_path = os.path.join(self.directory, "postgres.log")
        self.port = port or free_port()
        self.os_user = os_user if os.geteuid() == 0 else None
        if self.os_user:
            account = pwd.getpwnam(os_user)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        os.chmod(self.directory, 0o755)

    def _run(self, program, *args, timeout=120):
        argv = [os.path.join(self.bin, program), *args]
        if self.os_user:
            argv = ["runuser", "-u", self.os_user, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout, cwd="/")

    def _pg_ctl(self, action, *args):
        self._run("pg_ctl", action, "-D", self.data, "-w", "-t", "60", *args)

    def start(self):
        """initdb (the first time) and start; returns self."""
        if not os.path.exists(self.data):
            self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8")
        self._pg_ctl("start", "-l", self.log_path, "-o",
                     f"-p {self.port} -c listen_addresses=127.0.0.1 "
                     f"-k {self.directory} -c fsync=off -c max_connections=200")
        logger.info("private PostgreSQL on 127.0.0.1:%d, data in %s", self.port, self.data)
        return self

    def restart(self):
        """Stop (fast: clients are cut off) and start again, as an operator's restart does."""
        self._pg_ctl("restart", "-m", "fast", "-l", self.log_path, "-o",
                     f"-p {self.port} -c listen_addresses=127.0.0.1 "
                     f"-k {self.directory} -c fsync=off -c max_connections=200")
        logger.info("private PostgreSQL on 127.0.0.1:%d restarted", self.port)

    def create_database(self, name):
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def sql_section(self, database):
        """The `sql` section of the site's and master's configuration for `database`."""
        return {"engine": "postgresql", "host": "127.0.0.1", "port": self.port,
                "user": "postgres", "password": "", "database": database}

    def stop(self):
        """Stop the server (immediately) and delete its files."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self._pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError as e:
                logger.warning("private PostgreSQL: pg_ctl stop failed: %s",
                               e.stderr.decode(errors="replace").strip())
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
