"""website.yml: its schema, and the Django settings made from it.

The site is configured only from this file (STECHEC_WEBSITE_CONFIG names
another path than /etc/stechec/website.yml).
"""

import os

from stechec.common import archive, config
from stechec.common.config import Key
from stechec.common.database import SQL_SCHEMA, django_database

WEBSITE_SCHEMA = {
    "website": {
        "secret_key": Key(str, secret=True),
        "debug": Key(bool, False),
        "allowed_hosts": Key(list, ["localhost", "127.0.0.1", "[::1]"]),
        # Where `stechec-manage collectstatic` gathers static files for nginx;
        # without nginx, whitenoise serves them from there too.
        "static_root": Key(str, "/var/lib/stechec/static"),
        # A game's own replay viewer (JavaScript and assets), served under
        # /static/game/ when set.
        "static_path": Key(str, None, nullable=True),
        "self_registration": Key(bool, False),
        "upload_max_bytes": Key(int, 2 * 1024 * 1024, minimum=1),
        # The same member checks the worker applies before unpacking.
        "archive_max_members": Key(int, archive.DEFAULT_MAX_MEMBERS, minimum=1),
        "archive_max_unpacked_bytes": Key(int, archive.DEFAULT_MAX_UNPACKED_BYTES, minimum=1),
        "uploads_per_minute": Key(int, 5, minimum=1),
        "matches_in_flight_per_user": Key(int, 20, minimum=1),
        # False as in the original: any ready champion may be picked for a
        # match; true restricts players to their own.
        "own_champions_only": Key(bool, False),
        "page_size": Key(int, 50, minimum=1),
        "time_zone": Key(str, "UTC"),
    },
    "sql": SQL_SCHEMA,
    "master": {
        "host": Key(str, "localhost"),
        "port": Key(int, 8067),
        "shared_secret": Key(str, secret=True),
        "timeout_secs": Key(float, 3.0),
    },
    "contest": {
        "game": Key(str),
        "nb_players": Key(int, 2, minimum=1),
        # The shared (NFS) directory, mounted on the site and every worker.
        "directory": Key(str),
        "map_max_bytes": Key(int, 64 * 1024, minimum=1),
    },
}


def load(path=None):
    return config.load("website", path or os.environ.get("STECHEC_WEBSITE_CONFIG"),
                       WEBSITE_SCHEMA, debug_key="website.debug")


def django_settings(site):
    """The settings module's names, from a loaded website.yml."""
    www = site["website"]
    here = os.path.dirname(os.path.abspath(__file__))
    return {
        "STECHEC": site,
        "SECRET_KEY": www["secret_key"],
        "DEBUG": www["debug"],
        "ALLOWED_HOSTS": www["allowed_hosts"],
        "INSTALLED_APPS": [
            "stechec.www.contest",
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django.contrib.humanize",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "stechec.www.contest.middleware.RequestSizeLimitMiddleware",
            "stechec.www.contest.middleware.NulQueryMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        "ROOT_URLCONF": "stechec.www.urls",
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [os.path.join(here, "templates")],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]},
        }],
        "WSGI_APPLICATION": "stechec.www.wsgi.application",
        "DATABASES": {"default": django_database(site["sql"], conn_max_age=60)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": www["time_zone"],
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATIC_ROOT": www["static_root"],
        "STATICFILES_DIRS": ([("game", www["static_path"])] if www["static_path"] else []),
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": True,
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "home",
        "DATA_UPLOAD_MAX_MEMORY_SIZE": www["upload_max_bytes"] + 1024 * 1024,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": www["upload_max_bytes"] + 1024 * 1024,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "root": {"handlers": ["console"], "level": "INFO"},
        },
    }
