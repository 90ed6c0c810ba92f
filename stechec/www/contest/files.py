"""Files of the shared directory, as HTTP responses and pages.

Workers write them; they may be missing (task not run yet, file cleaned up),
so a missing file is a 404 with a message, never a 500. Downloads are the
files as they are; a log shown on a page goes through logview. Every file is
streamed, never read whole: a contest game's dump is tens of MB.
"""

import gzip
import logging
import os
import re
import zlib

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from stechec.www.contest.logview import log_html

# What a page shows of a log; the whole file, as written, is a download away.
INLINE_LOG_BYTES = 256 * 1024
# A log's type as a download: text, whatever bytes it holds.
LOG_TYPE = "text/plain"
# What a gzip file starts with.
GZIP_MAGIC = b"\x1f\x8b"
# How much of a decompressed file is held at once.
CHUNK_BYTES = 64 * 1024

logger = logging.getLogger(__name__)


def download(path, filename, content_type="application/octet-stream"):
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise Http404(_("%(name)s is not available (yet).") % {"name": filename}) from None
    return FileResponse(f, as_attachment=True, filename=filename, content_type=content_type)


def gunzipped(request, path, filename, content_type):
    """The gzip file at `path` decompressed, as `filename`, streamed: the file as it is,
    with Content-Encoding: gzip, to a client that accepts gzip; otherwise decompressed
    a chunk at a time. A file that is not gzip is a 404 saying so."""
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise Http404(_("%(name)s is not available (yet).") % {"name": filename}) from None
    if f.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
        f.close()
        raise Http404(_("%(name)s cannot be read: its file is not gzip.") % {"name": filename})
    f.seek(0)
    if accepts_gzip(request):
        response = FileResponse(f, filename=filename, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = StreamingHttpResponse(_decompress(f, path), content_type=content_type)
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _decompress(f, path):
    with f, gzip.GzipFile(fileobj=f) as unzipped:
        try:
            while chunk := unzipped.read(CHUNK_BYTES):
                yield chunk
        except (OSError, EOFError, zlib.error) as e:
            # Headers are gone: the client gets a truncated body, the log says why.
            logger.warning("%s: cannot be decompressed past byte %d: %s", path,
                           unzipped.tell(), e)


def accepts_gzip(request):
    """Whether the request's Accept-Encoding takes gzip (not refused with q=0)."""
    for entry in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, parameters = entry.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        weight = re.search(r"q=([0-9.]+)", parameters)
        try:
            return weight is None or float(weight.group(1)) > 0
        except ValueError:
            return False
    return False


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
        raise Http404(_("%(name)s is not available (yet).") % {"name": title})
    return render(request, "stechec/log.html", {
        "title": title, "log": log_html(data), "back_url": back_url,
        "download_url": download_url})
