"""`stechec-website`: the site under gunicorn, run by the interpreter the package was
installed for, so that gunicorn finds it without --pythonpath or PYTHONPATH (a waf
install's package is not on the system Python's path).

    stechec-website [GUNICORN OPTIONS]

is `gunicorn -c CONFIG [GUNICORN OPTIONS] stechec.www.wsgi:application`, CONFIG
being /etc/stechec/gunicorn.conf.py when it exists (`stechec-samples configs`
writes it), else the installed sample; `-c FILE` names another. The site
itself reads /etc/stechec/website.yml (STECHEC_WEBSITE_CONFIG names another).
"""

import os
import sys

from stechec.common import config, share

APPLICATION = "stechec.www.wsgi:application"


def default_config():
    chosen = os.path.join(config.DEFAULT_DIR, "gunicorn.conf.py")
    if os.path.exists(chosen):
        return chosen
    return os.path.join(share.share_dir(), "gunicorn", "gunicorn.conf.py")


def main():
    from gunicorn.app.wsgiapp import WSGIApplication

    options = sys.argv[1:]
    if not any(o in ("-c", "--config") or o.startswith("--config=") for o in options):
        options = ["-c", default_config(), *options]
    sys.argv = ["stechec-website", *options, APPLICATION]
    WSGIApplication("%(prog)s [gunicorn options]", prog="stechec-website").run()


if __name__ == "__main__":
    main()
