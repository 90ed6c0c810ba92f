"""An operator following the README's Deployment section, in throwaway locations.

`Deployment.follow_readme()` takes the section's commands in order
(tests/deployment/readme.py) and gives each to the step whose pattern it
matches (`STEPS`). Each step runs the README's own text, with the real
locations moved into a temporary directory (`Deployment.translate`):
/usr is the install prefix, /etc/stechec and /etc/nginx are directories of
configurations, /var/lib/stechec is the site's state; databases and roles
get throwaway names. Edits (`$EDITOR FILE`) set what the README says to set.
Daemons start as their systemd units would: the unit's ExecStart, User and
Environment, the unit's paths moved as above.

What the README does not cover is done here and said so: the Python
environment each install goes into, a PostgreSQL reached over TCP as the
test suite's `postgres` user, the shared directory (the operator's NFS
mount), an rsyslog of the test's own (STECHEC_SYSLOG_SOCKET points the
daemons at it instead of the machine's /dev/log), an nginx main configuration
standing in for Debian's /etc/nginx/nginx.conf, and free loopback ports.
"""

import configparser
import os
import pwd
import random
import re
import secrets
import shlex
import shutil
import subprocess
import textwrap

import yaml

from stechec.common import rpc
from stechec.local.cluster import free_port, http_ready, rpc_ready
from stechec.local.processes import READY_SECS, Service, Supervisor
from tests.deployment.readme import ROOT, deployment_commands

# Debian's own interpreter: the one an operator on Debian 12 has.
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALLS = ("pip", "waf")
# The program each installed systemd unit runs.
UNIT_PROGRAMS = {"stechec-website": "website", "master-node": "master-node",
                 "worker-node": "worker-node"}
# Each step: the README command it performs (a full match) and its method.
STEPS = [
    (r"pip install (?P<checkout>\S+)", "install_with_pip"),
    (r"waf configure --prefix=/usr && waf build && waf install", "install_with_waf"),
    (r"runuser -u postgres -- (?P<program>createuser|createdb) (?P<args>.+)", "create_database"),
    (r"(?P<program>master-node|worker-node): configuration error: (?P<line>.+)",
     "check_configuration_error"),
    (r"(cp|ln|chmod|chown|mkdir|install|adduser) .+", "run_as_root"),
    (r"\$EDITOR (?P<file>\S+)", "edit"),
    (r"stechec-manage .+", "run_as_root"),
    (r"(\w+=('[^']*'|\S+) )+stechec-manage createsuperuser --noinput .+", "create_superuser"),
    (r"gunicorn .+", "start_website"),
    (r"nginx -t && systemctl reload nginx", "start_nginx"),
    (r"(?P<unit>master-node|worker-node)", "start_unit"),
    (r"apt-get install (?P<packages>.+)", "check_installed"),
]


def step_of(command):
    """(method name, match) of the one step performing README `command`."""
    found = [(name, match) for pattern, name in STEPS
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
        self.checkout = os.path.join(base, "checkout")
        self.prefix = os.path.join(base, "usr")
        # pip: the venv is the prefix. waf: the venv holds the dependencies and
        # waf itself (what a packager's distribution provides), the prefix the project.
        self.venv = self.prefix if install == "pip" else os.path.join(base, "python")
        self.etc = os.path.join(base, "etc", "stechec")
        self.nginx_etc = os.path.join(base, "etc", "nginx")
        self.var = os.path.join(base, "var", "lib", "stechec")
        self.shared = os.path.join(base, "srv", "stechec")
        self.logs = os.path.join(base, "log")
        self.syslog_socket = os.path.join(base, "run", "syslog.sock")
        self.syslog_file = os.path.join(self.logs, "syslog")
        suffix = secrets.token_hex(4)
        self.db_name, self.db_role = f"stechec_deploy_{suffix}", f"stechec_deploy_{suffix}"
        self.db_password = secrets.token_urlsafe(12)
        self.secret_key = secrets.token_urlsafe(50)
        self.shared_secret = secrets.token_urlsafe(32)
        self.site_port, self.nginx_port = free_port(), free_port()
        self.master_port, self.worker_port = free_port(), free_port()
        # Sandbox user ids of their own, as the e2e tests pick them.
        self.first_uid = 400000 + random.randrange(1000) * 2000
        self.supervisor = Supervisor()
        self.done = []                    # the README commands performed, in order
        self.superuser = None             # (username, password) the README created
        self.expected_syslog_errors = []  # the errors the README's steps provoke
        # Not /etc/stechec nor /var/lib/stechec: the README's steps make them.
        for directory in (self.nginx_etc, self.shared, self.logs,
                          os.path.dirname(self.syslog_socket)):
            os.makedirs(directory, exist_ok=True)

    @property
    def url(self):
        """The site, through nginx."""
        return f"http://127.0.0.1:{self.nginx_port}/"

    @property
    def share(self):
        return os.path.join(self.prefix, "share", "stechec2")

    # --- the operator's machine, where the README assumes it ---

    def translate(self, text):
        """`text` with the real locations moved into the throwaway ones."""
        for real, throwaway in (("/path/to/this/checkout", self.checkout),
                                ("/etc/stechec", self.etc), ("/etc/nginx", self.nginx_etc),
                                ("/var/lib/stechec", self.var)):
            text = text.replace(real, throwaway)
        return re.sub(r"(?<![\w/.-])/usr(?=/|\s|$)", self.prefix, text)

    def environment(self, **extra):
        """An operator's root shell: the install's programs first on PATH, nothing of the
        test run's own environment (no PYTHONPATH, no DJANGO_SETTINGS_MODULE)."""
        return {
            "PATH": f"{self.prefix}/bin:{self.venv}/bin:/usr/local/sbin:/usr/local/bin:"
                    "/usr/sbin:/usr/bin:/sbin:/bin",
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
            name, match = step_of(command)
            try:
                getattr(self, name)(command, **match.groupdict())
            except StepFailed as e:
                raise StepFailed(f"README step {command!r} ({self.install} install): {e}") \
                    from None
            self.done.append(command)

    def install_with_pip(self, command, checkout):
        if self.install != "pip":
            return
        self.shell(f"{SYSTEM_PYTHON} -m venv {self.venv}", what="making the venv")
        self.shell(self.translate(command), timeout=900)

    def install_with_waf(self, command):
        if self.install != "waf":
            return
        # The README: `pip install waf-build` provides waf. The dependencies come
        # from the packager's distribution; here, setup.cfg's list in a venv.
        self.shell(f"{SYSTEM_PYTHON} -m venv {self.venv}", what="making the venv")
        setup = configparser.ConfigParser()
        setup.read(os.path.join(self.checkout, "setup.cfg"))
        requirements = setup["options"]["install_requires"].split()
        self.shell(shlex.join(["pip", "install", "--quiet", "waf-build", *requirements]),
                   what="installing waf and the dependencies", timeout=900)
        self.shell(self.translate(command), cwd=self.checkout)

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
        self.shell(self.translate(command), what=command)

    def create_superuser(self, command):
        words = shlex.split(command)
        assignments = dict(word.split("=", 1) for word in words[:words.index("stechec-manage")])
        self.run_as_root(command)
        self.superuser = (words[words.index("--username") + 1],
                          assignments["DJANGO_SUPERUSER_PASSWORD"])

    def check_configuration_error(self, command, program, line):
        """The README shows the line a misspelt key prints: misspell it, compare."""
        found = re.fullmatch(r"(?P<file>\S+): (?P<section>\w+)\.(?P<wrong>\w+): unknown key "
                             r"\(did you mean '(?P=section)\.(?P<right>\w+)'\?\)", line)
        assert found, f"README's example error line changed: {command!r}"
        path = self.translate(found["file"])
        document = self.load_sample(program)
        section = document[found["section"]]
        section[found["wrong"]] = section.pop(found["right"])
        # Written where the README shows it, then removed with its directory, which
        # the README's own steps make later.
        os.makedirs(os.path.dirname(path))
        self.write_yaml(path, document)
        done = subprocess.run([program, "-c", path], env=self.environment(
            STECHEC_SYSLOG_SOCKET=self.syslog_socket), capture_output=True, text=True,
            timeout=120)
        shutil.rmtree(os.path.dirname(path))
        if done.returncode == 0 or self.translate(command) not in done.stderr.splitlines():
            raise StepFailed(f"{program} with {found['section']}.{found['wrong']} exited "
                             f"{done.returncode} printing:\n{done.stderr}")
        # The same line in syslog, where an operator of the unit reads.
        self.expected_syslog_errors.append(
            f"{program}: [ERROR] configuration error: {self.translate(line)}")

    def load_sample(self, program):
        from stechec.common.share import SAMPLE_CONFIGS
        path = os.path.join(self.share, SAMPLE_CONFIGS[program])
        if not os.path.exists(path):
            raise StepFailed(f"the install put no sample at {path}")
        with open(path) as f:
            return yaml.safe_load(f)

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
        document["website"].update(
            secret_key=self.secret_key, allowed_hosts=["127.0.0.1", "localhost"],
            static_root=os.path.join(self.var, "static"), self_registration=True)
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
                (r"alias /var/lib/stechec/static/;",
                 f"alias {os.path.join(self.var, 'static')}/;")):
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

    def start_website(self, command):
        """The README's gunicorn command, as root."""
        self.start_service("website", shlex.split(self.translate(command)))

    def start_nginx(self, command):
        config = os.path.join(self.nginx_etc, "nginx.conf")
        self.shell(f"nginx -t -c {config}", what="nginx -t")
        # The machine's nginx would reload; this test's starts.
        self.start_service("nginx", ["nginx", "-c", config, "-g", "daemon off;"])

    def start_unit(self, command, unit):
        """The program as its installed systemd unit starts it: ExecStart, User, Group,
        Environment, RuntimeDirectory."""
        service = unit_service_section(os.path.join(self.share, "systemd", f"{unit}.service"))
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
