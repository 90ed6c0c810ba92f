# gunicorn configuration for the Stechec2 contest website, read by
#   stechec-website -c /etc/stechec/gunicorn.conf.py
# (gunicorn run by the installation's own Python: share/systemd/stechec-website.service).
# The site reads /etc/stechec/website.yml (STECHEC_WEBSITE_CONFIG names another).

import multiprocessing
import os
import shutil
import tempfile

# Loopback only: nginx proxies to it (share/nginx/stechec-website.conf).
bind = "127.0.0.1:8000"
# Pages are short database reads: about two processes per core.
workers = 2 * multiprocessing.cpu_count() + 1
# Uploads are small; a request taking longer than this is stuck.
timeout = 30
graceful_timeout = 30
# Recycle processes now and then (bounds any slow leak).
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# nginx sets X-Forwarded-For / X-Forwarded-Proto.
forwarded_allow_ips = "127.0.0.1"

# gunicorn 25.1 and later open a control socket (for gunicornc), by default in
# $XDG_RUNTIME_DIR or else $HOME/.gunicorn: the site's system user has no home
# (every start would log "Permission denied: '/nonexistent'"). Under systemd
# it goes to the unit's RuntimeDirectory (/run/stechec-website); elsewhere the
# site does without it. Older gunicorn ignores both settings.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"], "gunicorn.ctl")
else:
    control_socket_disable = True

# The site's Prometheus metrics (docs/website.md, Metrics): each worker process
# writes its figures in files in this directory, and /metrics, whichever
# process answers it, adds up every process's (prometheus_client's
# multiprocess mode). Set here, before the workers start and import the site.
# Under systemd in the unit's RuntimeDirectory; elsewhere a directory made for
# this run and removed when gunicorn stops.
METRICS_TEMP_PREFIX = "stechec-website-metrics-"
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    if os.environ.get("RUNTIME_DIRECTORY"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(os.environ["RUNTIME_DIRECTORY"],
                                                              "metrics")
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_TEMP_PREFIX)


def on_starting(server):
    # A previous run's files would add its counts to this run's.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    # Told by its name, not by a variable of this file: a reload (SIGHUP) reads
    # the file again, with the directory already in the environment.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if (os.path.dirname(directory) == tempfile.gettempdir()
            and os.path.basename(directory).startswith(METRICS_TEMP_PREFIX)):
        shutil.rmtree(directory, ignore_errors=True)
