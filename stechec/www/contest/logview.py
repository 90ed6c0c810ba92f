"""Logs on pages: the bytes a program printed, as HTML a person can read.

Logs are bytes (stechec.common.logtext): a page shows them through
`log_html`, never raw; the `.log` URLs give the files as they were written,
as downloads.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from stechec.common import logtext


def log_html(data):
    """Log `data` (bytes) as the inside of a `<pre class="log">`: colours as spans of the
    `ansi-*` classes, control characters visible in spans of class `ctl`, invalid UTF-8 as
    U+FFFD, everything escaped."""
    html = []
    for classes, text in logtext.segments(data):
        text = escape(text)
        html.append(f'<span class="{" ".join(classes)}">{text}</span>' if classes else text)
    return mark_safe("".join(html))
