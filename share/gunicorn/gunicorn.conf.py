# gunicorn configuration for the Stechec2 contest website, read by
#   stechec-website -c /etc/stechec/gunicorn.conf.py
# (gunicorn run by the installation's own Python: share/systemd/stechec-website.service).
# The site reads /etc/stechec/website.yml (STECHEC_WEBSITE_CONFIG names another).

import multiprocessing
import os

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
