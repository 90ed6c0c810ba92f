"""Logging for the daemons: syslog first, stderr on request or as a fallback.

Records reach syslog as `<program>: [LEVEL] message`, as the original
daemons wrote them. STECHEC_SYSLOG_SOCKET names another unix socket than
/dev/log (the tests bind their own).
"""

import errno
import logging
import logging.handlers
import os
import sys

SYSLOG_SOCKET = "/dev/log"


def setup_logging(program, *, local=False, verbose=False):
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)

    socket_path = os.environ.get("STECHEC_SYSLOG_SOCKET", SYSLOG_SOCKET)
    try:
        # SysLogHandler ignores a missing socket and then fails on every record.
        if not os.path.exists(socket_path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT))
        syslog = logging.handlers.SysLogHandler(
            address=socket_path, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
    except OSError as e:
        print(f"{program}: cannot log to syslog at {socket_path} ({e.strerror}); "
              "logging to stderr instead", file=sys.stderr, flush=True)
        local = True
    else:
        syslog.setFormatter(logging.Formatter(f"{program}: [%(levelname)s] %(message)s"))
        root.addHandler(syslog)

    if local:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter(
            f"%(asctime)s {program}: [%(levelname)s] %(message)s"))
        root.addHandler(stderr)
