"""Logging filters of the site (settings' LOGGING)."""

import logging


class RefusalsInOneLine(logging.Filter):
    """A 403 is the site refusing what it should refuse, not a failure: Django logs it
    with the PermissionDenied's traceback, which buries the site's log in noise. Keep its
    one line ("Forbidden (Permission denied): /path")."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
