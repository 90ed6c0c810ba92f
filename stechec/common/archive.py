"""Champion source archives: checked before anything is unpacked.

The site checks an upload before storing it and the worker checks it again
before compiling (the shared directory is not trusted either). An archive
must be a gzip-compressed tar holding only regular files and directories,
with relative paths that stay inside the target, a bounded number of members
and a bounded unpacked size: a small archive that unpacks to a gigabyte is
refused after reading its headers, not after filling the disk.
"""

import os
import tarfile
import zlib

DEFAULT_MAX_MEMBERS = 2000
DEFAULT_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# What a damaged gzip stream raises while tarfile reads it.
_STREAM_ERRORS = (tarfile.TarError, OSError, zlib.error, EOFError)


class ArchiveError(Exception):
    """The archive is refused; the message says why, for the champion's author."""


def check(fileobj, *, max_members=DEFAULT_MAX_MEMBERS,
          max_unpacked_bytes=DEFAULT_MAX_UNPACKED_BYTES):
    """Check a .tgz opened in binary mode; return the member list or raise ArchiveError."""
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r:gz")
    except _STREAM_ERRORS as e:
        raise ArchiveError(f"not a gzip-compressed tar archive ({_reason(e)})") from None
    members = []
    total = 0
    with tar:
        while True:
            try:
                member = tar.next()
            except _STREAM_ERRORS as e:
                raise ArchiveError(f"corrupt archive ({_reason(e)})") from None
            if member is None:
                break
            _check_member(member)
            members.append(member)
            if len(members) > max_members:
                raise ArchiveError(f"too many files (more than {max_members})")
            total += member.size
            if total > max_unpacked_bytes:
                raise ArchiveError(f"unpacks to more than {_human(max_unpacked_bytes)}")
    if not any(m.isfile() for m in members):
        raise ArchiveError("the archive holds no file")
    return members


def extract(path, destination, **limits):
    """Check the archive at `path`, then unpack it into the existing `destination`."""
    with open(path, "rb") as f:
        check(f, **limits)
        f.seek(0)
        with tarfile.open(fileobj=f, mode="r:gz") as tar:
            tar.extractall(destination, filter="data")


def _reason(error):
    return str(error).strip() or type(error).__name__


def _check_member(member):
    name = member.name
    if member.issym() or member.islnk():
        raise ArchiveError(f"{name!r}: links are not accepted")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(f"{name!r}: only regular files and directories are accepted")
    if name.startswith("/") or os.path.isabs(name):
        raise ArchiveError(f"{name!r}: absolute paths are not accepted")
    if ".." in name.replace("\\", "/").split("/"):
        raise ArchiveError(f"{name!r}: paths with '..' are not accepted")
    if "\0" in name:
        raise ArchiveError(f"{name!r}: names with NUL bytes are not accepted")


def _human(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n} bytes"
