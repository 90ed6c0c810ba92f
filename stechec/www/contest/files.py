"""Files of the shared directory, as HTTP responses and page excerpts.

Workers write them; they may be missing (task not run yet, file cleaned up),
so a missing file is a 404 with a message, never a 500.
"""

import os

from django.http import FileResponse, Http404

# What a page shows of a log inline; the whole file is a link away.
INLINE_LOG_BYTES = 256 * 1024


def download(path, filename, content_type="application/octet-stream"):
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise Http404(f"{filename} is not available (yet).") from None
    return FileResponse(f, as_attachment=True, filename=filename, content_type=content_type)


def text(path, filename):
    """A log shown in the browser as plain text."""
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise Http404(f"{filename} is not available (yet).") from None
    response = FileResponse(f, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def read_tail(path, limit=INLINE_LOG_BYTES):
    """The end of a text file for a page, or None when it does not exist."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                f.seek(size - limit)
            data = f.read(limit)
    except (FileNotFoundError, NotADirectoryError):
        return None
    truncated = size > limit
    text = data.decode("utf-8", errors="replace")
    return ("[… beginning cut …]\n" + text) if truncated else text
