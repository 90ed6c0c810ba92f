"""Where the installed samples, compile script, player environment and manuals live.

A waf install writes `stechec/_prefix.py` with the directories it chose
(P/share/stechec2, P/share/doc/stechec2); a checkout uses the repository's
own `share/` and `docs/`; a pip install carries both inside the package
(`stechec/share/`, `stechec/docs/`, see setup.py).
"""

import os

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHECKOUT = os.path.dirname(_PACKAGE)

# Where each program's sample configuration lands under a waf install's share
# directory, as in the original deployment guide.
SAMPLE_CONFIGS = {
    "website": os.path.join("www", "concours", "website.yml"),
    "master-node": os.path.join("master-node", "master-node.yml"),
    "worker-node": os.path.join("worker-node", "worker-node.yml"),
}
# Where each sample sits in the repository's share/ (and a pip install's).
CHECKOUT_CONFIGS = {
    "website": "website.yml",
    "master-node": "master-node.yml",
    "worker-node": "worker-node.yml",
}


def _waf_prefix():
    try:
        from stechec import _prefix
    except ImportError:
        return None
    return _prefix


def share_dir():
    prefix = _waf_prefix()
    if prefix is not None:
        return prefix.SHARE_DIR
    return _installed_or_checkout("share")


def docs_dir():
    prefix = _waf_prefix()
    if prefix is not None:
        return prefix.DOCS_DIR
    return _installed_or_checkout("docs")


def _installed_or_checkout(name):
    """The package's own copy of `name` (a pip install), else the repository's (a checkout)."""
    installed = os.path.join(_PACKAGE, name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(_CHECKOUT, name)


def sample_config(name):
    places = SAMPLE_CONFIGS if _waf_prefix() is not None else CHECKOUT_CONFIGS
    return os.path.join(share_dir(), places[name])
