"""Files of the shared directory, as HTTP responses and pages.

Workers write them; they may be missing (task not run yet, file cleaned up),
so a missing file is a 404 with a message, never a 500. Downloads are the
files as they are; a log shown on a page goes through logview.
"""

import os

from django.http import FileResponse, Http404
from django.shortcuts import render

from stechec.www.contest.logview import log_html

# What a page shows of a log; the whole file, as written, is a download away.
INLINE_LOG_BYTES = 256 * 1024
# A log's type as a download: text, whatever bytes it holds.
LOG_TYPE = "text/plain"


def download(path, filename, content_type="application/octet-stream"):
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise Http404(f"{filename} is not available (yet).") from None
    return FileResponse(f, as_attachment=True, filename=filename, content_type=content_type)


def read_tail(path, limit=INLINE_LOG_BYTES):
    """The end of a log for a page, as bytes (a mark first when its beginning is cut), or
    None when it does not exist."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                f.seek(size - limit)
            data = f.read(limit)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return "[… beginning cut …]\n".encode() + data if size > limit else data


def log_page(request, path, title, back_url, download_url):
    """The page showing the log at `path` readably (logview), or a 404 when it is not
    there; it links back to `back_url` and to the file itself, `download_url`."""
    data = read_tail(path)
    if data is None:
        raise Http404(f"{title} is not available (yet).")
    return render(request, "stechec/log.html", {
        "title": title, "log": log_html(data), "back_url": back_url,
        "download_url": download_url})
