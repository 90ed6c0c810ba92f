"""The site as a WSGI application (gunicorn: `stechec.www.wsgi:application`).

It refuses to start, with one line saying why, when its database cannot be
reached or is not migrated: a site that started anyway served its home page
and then a server error at login.
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stechec.www.settings")
application = get_wsgi_application()

from django.db import connections  # noqa: E402

from stechec.www.contest import health  # noqa: E402 (needs the settings above)

# gunicorn halts on this exit status ("App failed to load") rather than
# starting the worker again and again.
APP_LOAD_ERROR = 4

_problem = health.problem()
# Not kept: a server that loads the application before forking its workers
# would share this connection between them.
connections.close_all()
if _problem is not None:
    print(f"website: {_problem}", file=sys.stderr, flush=True)
    sys.exit(APP_LOAD_ERROR)
health.prepare_shared_directory()
