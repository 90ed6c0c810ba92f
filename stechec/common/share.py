"""Where the installed samples, compile script and Makefiles live.

A waf install writes `stechec/_prefix.py` with the share directory it chose;
a checkout uses the repository's own `share/`; a pip install looks under the
interpreter's prefix.
"""

import os
import sys

_CHECKOUT_SHARE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "share")

# Where each program's sample configuration lands under the share directory,
# as in the original deployment guide.
SAMPLE_CONFIGS = {
    "website": os.path.join("www", "concours", "website.yml"),
    "master-node": os.path.join("master-node", "master-node.yml"),
    "worker-node": os.path.join("worker-node", "worker-node.yml"),
}
# Where each sample sits in the repository's share/.
CHECKOUT_CONFIGS = {
    "website": "website.yml",
    "master-node": "master-node.yml",
    "worker-node": "worker-node.yml",
}


def share_dir():
    try:
        from stechec import _prefix
        return _prefix.SHARE_DIR
    except ImportError:
        pass
    checkout = os.path.normpath(_CHECKOUT_SHARE)
    if os.path.isdir(checkout):
        return checkout
    return os.path.join(sys.prefix, "share", "stechec2")


def sample_config(name):
    root = share_dir()
    if os.path.normpath(root) == os.path.normpath(_CHECKOUT_SHARE):
        return os.path.join(root, CHECKOUT_CONFIGS[name])
    return os.path.join(root, SAMPLE_CONFIGS[name])
