"""website.yml: its schema, and the Django settings made from it.

The site is configured only from this file (STECHEC_WEBSITE_CONFIG names
another path than /etc/stechec/website.yml).
"""

import ipaddress
import os

from stechec.common import archive, config
from stechec.common.config import Key
from stechec.common.database import SQL_SCHEMA, django_database

MAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}

WEBSITE_SCHEMA = {
    "website": {
        "secret_key": Key(str, secret=True),
        "debug": Key(bool, False),
        "allowed_hosts": Key(list, ["localhost", "127.0.0.1", "[::1]"]),
        # Where `stechec-manage collectstatic` gathers static files for nginx;
        # without nginx, whitenoise serves them from there too.
        "static_root": Key(str, "/var/lib/stechec/static"),
        # The game's replay viewer: its directory, served under /static/game/
        # (empty: the bundled tictactoe viewer), and its page in it, a template
        # the site renders for a match (see replay_viewer_dir and docs/website.md).
        "static_path": Key(str, None, nullable=True),
        "replay_page": Key(str, "replay.html"),
        "self_registration": Key(bool, False),
        "upload_max_bytes": Key(int, 2 * 1024 * 1024, minimum=1),
        # The same member checks the worker applies before unpacking.
        "archive_max_members": Key(int, archive.DEFAULT_MAX_MEMBERS, minimum=1),
        "archive_max_unpacked_bytes": Key(int, archive.DEFAULT_MAX_UNPACKED_BYTES, minimum=1),
        "uploads_per_minute": Key(int, 5, minimum=1),
        "matches_in_flight_per_user": Key(int, 20, minimum=1),
        # Password guesses: a user name that failed this many sign-ins in the window is
        # refused until the oldest of them leaves it (site and API alike).
        "sign_in_failures": Key(int, 10, minimum=1),
        "sign_in_window_minutes": Key(int, 15, minimum=1),
        # Reset mails one address may be sent in an hour, whoever asks: the reset page
        # would otherwise mail anyone's address as often as a script asks it to.
        "password_resets_per_hour": Key(int, 3, minimum=1),
        # False as in the original: any ready champion may be picked for a
        # match; true restricts players to their own.
        "own_champions_only": Key(bool, False),
        "page_size": Key(int, 50, minimum=1),
        "time_zone": Key(str, "UTC"),
        # The site's default language: a reader's whose browser asks for none of the
        # site's, the commands', the Discord webhooks' (docs/website.md, Languages).
        "language": Key(str, "en", choices=["en", "fr"]),
        # The leaderboard, tournaments and finished tournament matches with their
        # replays, for visitors without an account (docs/website.md).
        "public_results": Key(bool, True),
        # Addresses or networks (CIDR) that may read /metrics without a staff
        # account: the Prometheus server's (docs/website.md, Metrics).
        "metrics_allowed_from": Key(list, []),
    },
    "sql": SQL_SCHEMA,
    # The mails the site sends (password resets, new accounts' passwords), through
    # Django's email backends: console (the site's log), file (one file per mail in
    # file_path) or smtp.
    "mail": {
        "backend": Key(str, "console", choices=list(MAIL_BACKENDS)),
        "file_path": Key(str, None, nullable=True),
        "sender": Key(str, "stechec@localhost"),
        "host": Key(str, "localhost"),
        "port": Key(int, 25, minimum=1),
        "user": Key(str, ""),
        "password": Key(str, ""),
        "use_tls": Key(bool, False),
    },
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
        # The game's map validator, run with an uploaded map's file (mapcheck.py).
        "map_validator": Key(str, None, nullable=True),
        "map_validator_timeout_secs": Key(float, 10.0, minimum=0.1),
        # Whether the game plays on maps: the match form asks for one only then
        # (empty: false for the bundled tictactoe, true for every other game).
        "uses_maps": Key(bool, None, nullable=True),
        # The player environment offered on the Learn pages, one archive per
        # language folder (empty: the installed one, as the workers' default).
        "player_env": Key(str, None, nullable=True),
        # The game's own documentation, Markdown or HTML files shown on the
        # Learn pages (empty: the bundled game's, share/game_docs/<game>, if any).
        "game_docs": Key(str, None, nullable=True),
        # What the Learn pages tell players of the limits their champions run
        # under: keep them equal to the workers' match.time_ms and limits.client.
        "time_per_turn_ms": Key(int, 1000, minimum=1),
        "champion_memory_bytes": Key(int, 1024 ** 3, minimum=1),
        "champion_cpu_secs": Key(int, 600, minimum=1),
    },
}


# The bundled game's replay viewer, the default of website.static_path.
BUNDLED_REPLAY_VIEWER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replay_viewer")


def replay_viewer_dir(www):
    """The directory of the game's replay viewer, from website.yml's `website` section."""
    return www["static_path"] or BUNDLED_REPLAY_VIEWER


def load(path=None):
    path = path or os.environ.get("STECHEC_WEBSITE_CONFIG") or config.default_path("website")
    site = config.load("website", path, WEBSITE_SCHEMA, debug_key="website.debug")
    check_files(site, path)
    check_networks(site, path)
    return site


def check_networks(site, path):
    """ConfigError, one line, for an entry of website.metrics_allowed_from that is not an
    address or a network."""
    for entry in site["website"]["metrics_allowed_from"]:
        try:
            ipaddress.ip_network(entry)
        except (TypeError, ValueError):
            raise config.ConfigError(f"{path}: website.metrics_allowed_from: {entry!r} is not "
                                     "an address or a network such as 10.0.0.0/8") from None


def check_files(site, path):
    """ConfigError, one line, for a file the configuration names that the site could not
    use: the replay viewer's directory and page, the map validator."""
    www = site["website"]
    directory = replay_viewer_dir(www)
    if not os.path.isdir(directory):
        raise config.ConfigError(f"{path}: website.static_path: {directory} is not a directory")
    page = www["replay_page"]
    if os.path.isabs(page) or os.path.normpath(page).split(os.sep)[0] == os.pardir:
        raise config.ConfigError(f"{path}: website.replay_page: {page!r} is not a path inside "
                                 "website.static_path")
    if not os.path.isfile(os.path.join(directory, page)):
        raise config.ConfigError(f"{path}: website.replay_page: there is no file {page!r} in "
                                 f"{directory}")
    contest = site["contest"]
    for key in ("player_env", "game_docs"):
        if contest[key] and not os.path.isdir(contest[key]):
            raise config.ConfigError(f"{path}: contest.{key}: {contest[key]} is not a "
                                     "directory")
    mail = site["mail"]
    if mail["backend"] == "file" and not mail["file_path"]:
        raise config.ConfigError(f"{path}: mail.file_path: the file backend needs the "
                                 "directory the mails are written to")
    validator = site["contest"]["map_validator"]
    if validator and not (os.path.isfile(validator) and os.access(validator, os.X_OK)):
        raise config.ConfigError(f"{path}: contest.map_validator: {validator} is not an "
                                 "executable file")


# The players' API (stechec.www.api, docs/api.md): personal tokens or the browser's session.
API_SETTINGS = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stechec.www.api.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["stechec.www.api.tokens.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "stechec.www.api.pagination.NextPagePagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_SCHEMA_SETTINGS = {
    "TITLE": "Stechec2 contest API",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}


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
            "stechec.contest",
            "stechec.www.contest",
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django.contrib.humanize",
            "rest_framework",
            "drf_spectacular",
            # The API docs' scripts and styles, served by the site itself (no CDN).
            "drf_spectacular_sidecar",
        ],
        "MIDDLEWARE": [
            # First: its time covers every other middleware's.
            "stechec.www.contest.metrics.RequestDurationMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            # The language: the one chosen with the switch (a cookie), else
            # the browser's Accept-Language, else website.language.
            "django.middleware.locale.LocaleMiddleware",
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
                "stechec.www.contest.public.context",
            ]},
        }],
        "WSGI_APPLICATION": "stechec.www.wsgi.application",
        "DATABASES": {"default": django_database(site["sql"], conn_max_age=60)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": www["language"],
        "LANGUAGES": [("en", "English"), ("fr", "Français")],
        "LOCALE_PATHS": [os.path.join(here, "locale")],
        "FORMAT_MODULE_PATH": "stechec.www.formats",
        "TIME_ZONE": www["time_zone"],
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATIC_ROOT": www["static_root"],
        "STATICFILES_DIRS": [("game", replay_viewer_dir(www))],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": True,
        "REST_FRAMEWORK": API_SETTINGS,
        "SPECTACULAR_SETTINGS": API_SCHEMA_SETTINGS,
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "home",
        "DATA_UPLOAD_MAX_MEMORY_SIZE": www["upload_max_bytes"] + 1024 * 1024,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": www["upload_max_bytes"] + 1024 * 1024,
        "EMAIL_BACKEND": MAIL_BACKENDS[site["mail"]["backend"]],
        "EMAIL_FILE_PATH": site["mail"]["file_path"],
        "DEFAULT_FROM_EMAIL": site["mail"]["sender"],
        "EMAIL_HOST": site["mail"]["host"],
        "EMAIL_PORT": site["mail"]["port"],
        "EMAIL_HOST_USER": site["mail"]["user"],
        "EMAIL_HOST_PASSWORD": site["mail"]["password"],
        "EMAIL_USE_TLS": site["mail"]["use_tls"],
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "root": {"handlers": ["console"], "level": "INFO"},
            "filters": {"refusals": {"()": "stechec.www.logfilters.RefusalsInOneLine"}},
            "loggers": {"django.request": {"filters": ["refusals"]}},
        },
    }
