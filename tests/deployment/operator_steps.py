"""An operator following the README's Deployment section, in throwaway locations.

`Deployment.follow_readme()` takes the section's commands in order
(tests/deployment/readme.py) and gives each to the step whose pattern it
matches (`STEPS`). Each step runs the README's own text as root, with the
real locations moved under a temporary directory (`MOVED`,
`Deployment.translate`); the database and its role get throwaway names.
Edits (`$EDITOR FILE`) set what the README says to set. `systemctl enable
--now UNIT` starts the program as the unit `stechec-samples units` wrote
says: its ExecStart, User, Group, Environment and RuntimeDirectory.

Around the README, and said where it is done: a PostgreSQL reached over TCP
as the test suite's `postgres` user; a local shared directory instead of an
NFS export; an rsyslog of the test's own (STECHEC_SYSLOG_SOCKET points the
daemons at its socket, not at the machine's /dev/log); an nginx main
configuration standing in for Debian's /etc/nginx/nginx.conf; free loopback
ports instead of the samples' fixed ones.
"""

import os
import pwd
import random
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import textwrap

import yaml

from stechec.common import rpc
from stechec.local.cluster import free_port, http_ready, rpc_ready
from stechec.local.processes import READY_SECS, Service, Supervisor
from tests.deployment.readme import ROOT, deployment_commands

INSTALLS = ("pip", "waf")
# Where the README's locations go, under the deployment's temporary directory.
# /usr is waf's prefix; SHARE the README's name for the share directory.
MOVED = {"/path/to/this/checkout": "checkout", "/opt/stechec": "opt/stechec",
         "/etc/stechec": "etc/stechec", "/etc/nginx": "etc/nginx",
         "/etc/systemd/system": "etc/systemd/system", "/var/lib/stechec": "var/lib/stechec",
         "/srv/stechec": "srv/stechec", "/usr": "usr"}
# The program each installed systemd unit runs.
UNIT_PROGRAMS = {"stechec-website": "website", "master-node": "master-node",
                 "worker-node": "worker-node"}
# Each step: the README commands it performs (full matches) and its method.
STEPS = [
    (r"python3 -m venv /opt/stechec", "run_as_root"),
    (r"/opt/stechec/bin/pip install /path/to/this/checkout", "run_as_root"),
    (r"waf .+", "run_waf"),
    (r"(adduser|install|chgrp|cp|ln|stechec-samples) .+", "run_as_root"),
    (r"/srv/stechec .+", "export_shared_directory"),
    (r"(?P<program>master-node|worker-node): configuration error: (?P<line>.+)",
     "check_configuration_error"),
    (r"runuser -u postgres -- (?P<program>createuser|createdb) (?P<args>.+)", "create_database"),
    (r"\$EDITOR (?P<file>\S+)", "edit"),
    (r"stechec-manage .+", "run_as_root"),
    (r"(\w+=\S+ )+stechec-manage createsuperuser --noinput .+", "create_superuser"),
    (r"systemctl enable --now (?P<unit>\S+)", "start_unit"),
    (r"nginx -t && systemctl reload nginx", "start_nginx"),
    (r"apt-get install (?P<packages>.+)", "check_installed"),
]


def step_of(command):
    """(index in STEPS, match) of the one step performing README `command`."""
    found = [(index, match) for index, (pattern, _) in enumerate(STEPS)
             if (match := re.fullmatch(pattern, command))]
    assert len(found) == 1, (f"README command {command!r} is performed by {len(found)} steps "
                             "of tests/deployment/operator_steps.py STEPS, not one")
    return found[0]


def unit_service_section(path):
    """A systemd unit's [Service] keys: {key: [values]} (Environment= may repeat)."""
    keys = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                keys.setdefault(key, []).append(value)
    return keys


class StepFailed(AssertionError):
    pass


class Deployment:
    """One deployment by the README under `base`, installed with `install` (pip or waf)."""

    def __init__(self, install, base, postgres):
        assert install in INSTALLS
        self.install = install
        self.base = base
        self.postgres = postgres          # {"host", "port", "user", "password"}
        self.checkout = self.translate("/path/to/this/checkout")
        # Where the programs are: the venv's for pip; for waf, the prefix's (its venv
        # only provides the dependencies).
        self.bin = self.translate("/opt/stechec/bin" if install == "pip" else "/usr/bin")
        self.etc = self.translate("/etc/stechec")
        self.nginx_etc = self.translate("/etc/nginx")
        self.units = self.translate("/etc/systemd/system")
        self.shared = self.translate("/srv/stechec")
        self._share = None
        self.logs = os.path.join(base, "log")
        self.syslog_socket = os.path.join(base, "run", "syslog.sock")
        self.syslog_file = os.path.join(self.logs, "syslog")
        suffix = secrets.token_hex(4)
        self.db_name, self.db_role = f"stechec_deploy_{suffix}", f"stechec_deploy_{suffix}"
        self.db_password = secrets.token_urlsafe(12)
        self.secret_key = secrets.token_urlsafe(50)
        self.static_root = None           # website.static_root, once edited
        self.shared_secret = secrets.token_urlsafe(32)
        self.site_port, self.nginx_port = free_port(), free_port()
        self.master_port, self.worker_port = free_port(), free_port()
        # Sandbox user ids of their own, as the e2e tests pick them.
        self.first_uid = 400000 + random.randrange(1000) * 2000
        self.supervisor = Supervisor()
        self.superuser = None             # (username, password) the README created
        self.expected_syslog_errors = []  # the errors the README's steps provoke
        # What Debian has; not /etc/stechec, /srv/stechec, /var/lib/stechec, /opt/stechec:
        # the README's steps make them.
        for directory in (self.nginx_etc, self.units, self.logs,
                          os.path.dirname(self.syslog_socket)):
            os.makedirs(directory, exist_ok=True)

    @property
    def url(self):
        """The site, through nginx."""
        return f"http://127.0.0.1:{self.nginx_port}/"

    @property
    def share(self):
        """The installed share directory, as `stechec-samples where` names it."""
        if self._share is None:
            where = self.shell("stechec-samples where", what="stechec-samples where")
            self._share = re.search(r"^share: (.+)$", where, re.M).group(1)
        return self._share

    # --- the operator's machine, where the README assumes it ---

    def translate(self, text):
        """`text` with the README's locations moved under the deployment's directory."""
        for real, moved in MOVED.items():
            text = re.sub(rf"(?<![\w/.-]){re.escape(real)}(?=/|\s|$|\))",
                          os.path.join(self.base, moved), text)
        return re.sub(r"\bSHARE/", lambda _: self.share + "/", text)

    def environment(self, **extra):
        """An operator's root shell: the install's programs first on PATH, nothing of the
        test run's own environment (no PYTHONPATH, no DJANGO_SETTINGS_MODULE)."""
        return {
            "PATH": f"{self.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LANG": "C.UTF-8",
            # /etc/stechec/website.yml moved: the README's way of naming another.
            "STECHEC_WEBSITE_CONFIG": os.path.join(self.etc, "website.yml"),
            **extra,
        }

    def shell(self, command, *, what=None, cwd=None, stdin=None, timeout=600):
        """Run `command` (already translated) with bash; its output, or StepFailed."""
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd or self.base,
                              env=self.environment(), input=stdin or "", capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise StepFailed(f"{what or command!r} failed with status {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout + done.stderr

    def prepare(self):
        """What the README takes for granted: the checkout, syslog, the shared directory."""
        # The tree as a clone has it, so that the installs write nothing into ROOT.
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                               capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, files):
            source = os.path.join(ROOT, name)
            if os.path.isfile(source):
                target = os.path.join(self.checkout, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(source, target)
        self.start_rsyslog()
        self.write_nginx_main_config()

    def start_rsyslog(self):
        """An rsyslogd of this test's own: its socket, every record to one file."""
        config = os.path.join(self.base, "rsyslog.conf")
        work = os.path.join(self.base, "rsyslog")
        os.makedirs(work, exist_ok=True)
        with open(config, "w") as f:
            f.write(textwrap.dedent(f"""\
                global(workDirectory="{work}")
                module(load="imuxsock" SysSock.Use="off")
                input(type="imuxsock" Socket="{self.syslog_socket}" CreatePath="on")
                template(name="line" type="string" string="%syslogtag%%msg%\\n")
                *.* action(type="omfile" file="{self.syslog_file}" template="line")
                """))
        self.supervisor.start(Service(
            "rsyslogd", ["rsyslogd", "-n", "-f", config, "-i", os.path.join(work, "pid")],
            os.path.join(self.logs, "rsyslogd.log"), env=self.environment(),
            ready=lambda: os.path.exists(self.syslog_socket)))

    def write_nginx_main_config(self):
        """Debian's /etc/nginx/nginx.conf, cut down to what a virtual host needs, with
        every file nginx writes under nginx_etc."""
        temporary = os.path.join(self.nginx_etc, "tmp")
        for directory in (temporary, os.path.join(self.nginx_etc, "sites-available"),
                          os.path.join(self.nginx_etc, "sites-enabled")):
            os.makedirs(directory, exist_ok=True)
        paths = "\n".join(f"    {kind}_temp_path {temporary}/{kind};"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(self.nginx_etc, "nginx.conf"), "w") as f:
            f.write(f"""user www-data;
worker_processes 1;
pid {self.nginx_etc}/nginx.pid;
error_log {self.logs}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.logs}/nginx-access.log;
{paths}
    include {self.nginx_etc}/sites-enabled/*;
}}
""")

    # --- the README, step by step ---

    def follow_readme(self):
        for command in deployment_commands():
            index, match = step_of(command)
            try:
                getattr(self, STEPS[index][1])(command, **match.groupdict())
            except StepFailed as e:
                raise StepFailed(f"README step {command!r} ({self.install} install): {e}") \
                    from None

    def run_waf(self, command):
        """The packagers' install, for the waf deployment only. waf itself comes from the
        test suite's environment (the README: `pip install waf-build` provides it)."""
        if self.install != "waf":
            return
        waf = shutil.which("waf", path=os.path.dirname(sys.executable))
        assert waf, "no waf beside the test suite's Python (pip install waf-build)"
        self.shell(self.translate(command).replace("waf ", f"{waf} "), what=command,
                   cwd=self.checkout)

    def export_shared_directory(self, command):
        """The README's /etc/exports line. The shared directory here is a local one (the
        README: any POSIX filesystem works), read and written on this one machine."""

    def create_database(self, command, program, args):
        """As the postgres user, over TCP to the test suite's server; throwaway names."""
        argv = shlex.split(args)
        if program == "createuser":
            argv[-1] = self.db_role
            # --pwprompt asks twice.
            stdin = f"{self.db_password}\n{self.db_password}\n"
        else:
            argv[argv.index("--owner") + 1] = self.db_role
            argv[-1] = self.db_name
            stdin = None
        server = ["-h", self.postgres["host"], "-p", str(self.postgres["port"]),
                  "-U", self.postgres["user"]]
        self.shell(shlex.join([program, *server, *argv]), stdin=stdin, what=command)

    def run_as_root(self, command):
        self.shell(self.translate(command), what=command, timeout=900)

    def create_superuser(self, command):
        """The README's line, with a password of the test's own for its placeholder."""
        password = secrets.token_urlsafe(12)
        command = re.sub(r"\bDJANGO_SUPERUSER_PASSWORD=\S+",
                         f"DJANGO_SUPERUSER_PASSWORD={password}", command)
        self.run_as_root(command)
        words = shlex.split(command)
        self.superuser = (words[words.index("--username") + 1], password)

    def check_configuration_error(self, command, program, line):
        """The README shows the line a misspelt key prints: misspell it, compare."""
        found = re.fullmatch(r"(?P<file>\S+): (?P<section>\w+)\.(?P<wrong>\w+): unknown key "
                             r"\(did you mean '(?P=section)\.(?P<right>\w+)'\?\)", line)
        assert found, f"README's example error line changed: {command!r}"
        path = self.translate(found["file"])
        if not os.path.exists(path):
            raise StepFailed(f"{found['file']} is not there yet")
        with open(path) as f:
            original = f.read()
        document = yaml.safe_load(original)
        section = document[found["section"]]
        section[found["wrong"]] = section.pop(found["right"])
        # Misspelt in place, as the README shows it, then put back.
        self.write_yaml(path, document)
        try:
            done = subprocess.run([program, "-c", path], env=self.environment(
                STECHEC_SYSLOG_SOCKET=self.syslog_socket), capture_output=True, text=True,
                timeout=120)
        finally:
            with open(path, "w") as f:
                f.write(original)
        if done.returncode == 0 or self.translate(command) not in done.stderr.splitlines():
            raise StepFailed(f"{program} with {found['section']}.{found['wrong']} exited "
                             f"{done.returncode} printing:\n{done.stderr}")
        # The same line in syslog, where an operator of the unit reads.
        self.expected_syslog_errors.append(
            f"{program}: [ERROR] configuration error: {self.translate(line)}")

    @staticmethod
    def write_yaml(path, document):
        """Rewrite in place, so that the file keeps the owner and mode it was given."""
        with open(path, "w") as f:
            f.write(yaml.safe_dump(document, sort_keys=False))

    def edit(self, command, file):
        """What the README says to set in each file (every CHANGEME, the database, the
        shared directory, addresses), on this machine's throwaway values."""
        path = self.translate(file)
        if path.endswith(".yml"):
            with open(path) as f:
                document = yaml.safe_load(f)
            getattr(self, "edit_" + os.path.basename(path)[:-4].replace("-", "_"))(document)
            self.write_yaml(path, document)
            with open(path) as f:
                assert "CHANGEME" not in f.read(), f"{path}: a CHANGEME left"
        elif path.endswith("stechec-website.conf"):
            self.edit_nginx_vhost(path)
        else:
            raise StepFailed(f"no edit known for {file}")

    def sql(self):
        return {"engine": "postgresql", "host": self.postgres["host"],
                "port": self.postgres["port"], "user": self.db_role,
                "password": self.db_password, "database": self.db_name}

    def edit_website(self, document):
        website = document["website"]
        # static_root as the sample has it (nginx's sample serves it), moved.
        self.static_root = self.translate(website["static_root"])
        website.update(secret_key=self.secret_key, allowed_hosts=["127.0.0.1", "localhost"],
                       static_root=self.static_root, self_registration=True)
        document["sql"] = self.sql()
        document["master"].update(host="127.0.0.1", port=self.master_port,
                                  shared_secret=self.shared_secret)
        document["contest"]["directory"] = self.shared

    def edit_master_node(self, document):
        document["master"].update(host="127.0.0.1", port=self.master_port,
                                  shared_secret=self.shared_secret)
        document["sql"] = self.sql()

    def edit_worker_node(self, document):
        document["master"].update(host="127.0.0.1", port=self.master_port,
                                  shared_secret=self.shared_secret)
        # A match of two takes 3 slots; one more lets a compilation run beside it.
        document["worker"].update(host="127.0.0.1", listen="127.0.0.1", port=self.worker_port,
                                  available_slots=4)
        document["contest"]["directory"] = self.shared
        document["sandbox"]["first_uid"] = self.first_uid

    def edit_nginx_vhost(self, path):
        with open(path) as f:
            text = f.read()
        for pattern, replacement in (
                (r"listen 80;", f"listen 127.0.0.1:{self.nginx_port};"),
                (r"\n\s*listen \[::\]:80;", ""),
                (r"server 127\.0\.0\.1:8000", f"server 127.0.0.1:{self.site_port}"),
                (r"alias (\S+);", lambda alias: f"alias {self.translate(alias[1])};")):
            text, count = re.subn(pattern, replacement, text)
            assert count == 1, f"{path}: no {pattern!r} to change"
        with open(path, "w") as f:
            f.write(text)

    def check_installed(self, command, packages):
        for package in packages.split():
            status = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", package],
                                    capture_output=True, text=True).stdout
            if status != "install ok installed":
                raise StepFailed(f"{package} is not installed on this machine")

    # --- the services ---

    def start_nginx(self, command):
        config = os.path.join(self.nginx_etc, "nginx.conf")
        self.shell(f"nginx -t -c {config}", what="nginx -t")
        # The machine's nginx would reload; this test's starts.
        self.start_service("nginx", ["nginx", "-c", config, "-g", "daemon off;"])

    def start_unit(self, command, unit):
        """The program as the unit the README wrote starts it: ExecStart, User, Group,
        Environment, RuntimeDirectory."""
        service = unit_service_section(os.path.join(self.units, f"{unit}.service"))
        argv = shlex.split(self.translate(service["ExecStart"][0]))
        env = dict(value.split("=", 1) for line in service.get("Environment", [])
                   for value in shlex.split(line))
        user = service.get("User", ["root"])[0]
        group = service.get("Group", [user])[0]
        try:
            account = pwd.getpwnam(user)
        except KeyError:
            raise StepFailed(f"{unit}.service runs as user {user!r}, which does not exist: "
                             "no README step creates it") from None
        for name in service.get("RuntimeDirectory", []):
            env["RUNTIME_DIRECTORY"] = os.path.join(self.base, "run", name)
            os.makedirs(env["RUNTIME_DIRECTORY"])
            os.chown(env["RUNTIME_DIRECTORY"], account.pw_uid, account.pw_gid)
        if user != "root":
            argv = ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", "--",
                    *argv]
        env.setdefault("HOME", account.pw_dir)
        self.start_service(UNIT_PROGRAMS[unit], argv, extra_env=env)

    def program_settings(self, program):
        """(environment, readiness check) of each program the README starts.

        gunicorn gets a free loopback port (the sample's 8000 may be taken on a
        shared machine) and two processes; the daemons log to the test's rsyslog."""
        syslog = {"STECHEC_SYSLOG_SOCKET": self.syslog_socket}
        return {
            "website": ({"GUNICORN_CMD_ARGS": f"--bind=127.0.0.1:{self.site_port} --workers=2"},
                        http_ready(f"http://127.0.0.1:{self.site_port}/")),
            "nginx": ({}, http_ready(self.url)),
            "master-node": (syslog, rpc_ready(rpc.server_url("127.0.0.1", self.master_port),
                                              self.shared_secret)),
            "worker-node": (syslog, rpc_ready(rpc.server_url("127.0.0.1", self.worker_port),
                                              self.shared_secret)),
        }[program]

    def start_service(self, program, argv, *, extra_env=None):
        env, ready = self.program_settings(program)
        service = Service(program, argv, os.path.join(self.logs, f"{program}.log"),
                          env=self.environment(**env, **(extra_env or {})), ready=ready,
                          cwd="/")
        try:
            self.supervisor.start(service, ready_timeout=READY_SECS * 2)
        except Exception as e:
            raise StepFailed(str(e)) from None

    def log(self, name):
        try:
            with open(os.path.join(self.logs, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        self.supervisor.stop()
