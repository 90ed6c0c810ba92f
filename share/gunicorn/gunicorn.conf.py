# gunicorn configuration for the Stechec2 contest website.
#   gunicorn -c /etc/stechec/gunicorn.conf.py stechec.www.wsgi:application
# The site reads /etc/stechec/website.yml (STECHEC_WEBSITE_CONFIG names another).

import multiprocessing

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
