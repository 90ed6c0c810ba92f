"""Logging for the daemons: syslog first, stderr on request or as a fallback.

Records reach syslog as `<program>: [LEVEL] message`, as the original
daemons wrote them. STECHEC_SYSLOG_SOCKET names another unix socket than
/dev/log (the tests bind their own).
"""

import logging
import logging.handlers
import os
import socket
import sys

SYSLOG_SOCKET = "/dev/log"


def setup_logging(program, *, local=False, verbose=False):
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)

    socket_path = os.environ.get("STECHEC_SYSLOG_SOCKET", SYSLOG_SOCKET)
    try:
        _check_syslog(socket_path)
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


def fatal(program, message, status):
    """Stop the program on `message`: to stderr as `<program>: message`, for an operator who
    started it by hand, and to syslog at ERROR, where a service manager's operator reads."""
    record = logging.LogRecord("stechec", logging.ERROR, __file__, 0, "%s", (message,), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.handlers.SysLogHandler):
            handler.handle(record)
    print(f"{program}: {message}", file=sys.stderr, flush=True)
    sys.exit(status)


def _check_syslog(path):
    """Raise OSError when nothing listens at `path`.

    SysLogHandler itself swallows that error (since Python 3.11) and then
    prints a traceback for every record instead of logging it.
    """
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        probe = socket.socket(socket.AF_UNIX, kind)
        try:
            probe.connect(path)
            return
        except OSError as e:
            error = e
        finally:
            probe.close()
    raise error
