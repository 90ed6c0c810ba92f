"""Champion archives: checked before anything is unpacked, unpacked by this module.

The site checks an upload before storing it and the worker checks it again
before compiling (the shared directory is not trusted either). An archive
must be a tar (gzip-compressed for uploads) holding only regular files and
directories, with relative paths that stay inside the target, a bounded
number of members and a bounded unpacked size: a small archive that unpacks
to a gigabyte is refused after reading its headers, not after filling the
disk. A compiled champion's archive may also hold symbolic links, each
staying inside it.

Unpacking is done here rather than by `TarFile.extractall(filter="data")`,
which Python 3.11 before 3.11.4 (Debian 12's) does not have: the same rules
on every version. Files are written with their owner's permissions and no
other bits (never setuid, never writable by others), owned by whoever
unpacks, links are created last, and nothing is written through a link.
"""

import os
import posixpath
import shutil
import stat
import tarfile
import zlib

from stechec.common.i18n import gettext as _
from stechec.common.verdicts import human_bytes, shown_value

DEFAULT_MAX_MEMBERS = 2000
DEFAULT_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# What a damaged gzip stream raises while tarfile reads it.
_STREAM_ERRORS = (tarfile.TarError, OSError, zlib.error, EOFError)
# What writing a member raises when the archive contradicts itself (a file
# where one of its members wants a directory, a link over a file...).
_CONFLICTS = (FileExistsError, NotADirectoryError, IsADirectoryError)


class ArchiveError(Exception):
    """The archive is refused; the message says why, for the champion's author."""


def check(fileobj, *, mode="r:gz", links=False, set_id_bits=False,
          max_members=DEFAULT_MAX_MEMBERS, max_unpacked_bytes=DEFAULT_MAX_UNPACKED_BYTES):
    """Check the archive in `fileobj` (binary, at its start) from its headers; return the
    number of members, or raise ArchiveError. `links`: symbolic links staying inside are
    accepted. `set_id_bits`: members with setuid or setgid bits are accepted (a compiled
    champion's build may leave a setgid directory; unpacking drops the bits anyway); a
    player's sources holding such a file are refused, as a mistake or an attack."""
    return _walk(fileobj, mode, links, set_id_bits, max_members, max_unpacked_bytes, None)


def extract(source, destination, *, mode="r:gz", links=False, set_id_bits=False, **limits):
    """Check the archive (a path, or a binary file object at its start), then unpack it
    into the existing, empty `destination`: a refused archive writes nothing."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return extract(f, destination, mode=mode, links=links, set_id_bits=set_id_bits,
                           **limits)
    start = source.tell()
    check(source, mode=mode, links=links, set_id_bits=set_id_bits, **limits)
    source.seek(start)
    destination = os.fspath(destination)
    _walk(source, mode, links, set_id_bits, limits.get("max_members", DEFAULT_MAX_MEMBERS),
          limits.get("max_unpacked_bytes", DEFAULT_MAX_UNPACKED_BYTES), destination)


def _walk(fileobj, mode, links, set_id_bits, max_members, max_unpacked_bytes, destination):
    """Read every member, checking it; with a `destination`, write files and directories
    as they come and the links at the end. The checks run again while writing: the file
    may have changed since it was checked."""
    try:
        tar = tarfile.open(fileobj=fileobj, mode=mode)
    except _STREAM_ERRORS as e:
        message = (_("not a gzip-compressed tar archive (%(reason)s)") if mode == "r:gz"
                   else _("not a tar archive (%(reason)s)"))
        raise ArchiveError(message % {"reason": _reason(e)}) from None
    count = total = 0
    has_file = False
    found_links = {}
    # Every other member's name and the directories above it: a link may not replace one.
    occupied = set()
    with tar:
        while True:
            try:
                member = tar.next()
            except _STREAM_ERRORS as e:
                raise _corrupt(e) from None
            if member is None:
                break
            name = _check_member(member, links, set_id_bits)
            count += 1
            if count > max_members:
                raise ArchiveError(_("too many files (more than %(count)s)")
                                   % {"count": max_members})
            total += member.size
            if total > max_unpacked_bytes:
                raise ArchiveError(_("unpacks to more than %(size)s")
                                   % {"size": shown_value(human_bytes(max_unpacked_bytes))})
            has_file = has_file or member.isfile()
            if member.issym():
                found_links[name] = member.linkname
                continue
            occupied.update(_ancestors(name))
            occupied.add(name)
            if destination is not None and name != ".":
                _write(tar, member, name, destination)
    if not has_file:
        raise ArchiveError(_("the archive holds no file"))
    for name, target in found_links.items():
        if name in occupied:
            raise _refused(name, _("a link in the place of a file or a directory"))
        _check_link(name, target, found_links)
    if destination is not None:
        for name, target in found_links.items():
            _write_link(name, target, destination)
    return count


def _check_member(member, links, set_id_bits):
    """The member's normalised name, or ArchiveError."""
    name = member.name
    # A setgid directory is how groups share a folder: harmless, and common.
    if not set_id_bits and not member.isdir() and member.mode & (stat.S_ISUID | stat.S_ISGID):
        setuid, setgid = member.mode & stat.S_ISUID, member.mode & stat.S_ISGID
        bits = (_("setuid and setgid") if setuid and setgid
                else "setuid" if setuid else "setgid")
        raise _refused(name, _("files with the %(bits)s bit are not accepted (chmod ug-s, "
                               "then pack again)") % {"bits": bits})
    if member.islnk() or (member.issym() and not links):
        raise _refused(name, _("links are not accepted"))
    if not (member.isfile() or member.isdir() or member.issym()):
        raise _refused(name, _("only regular files and directories are accepted"))
    if name.startswith("/") or os.path.isabs(name):
        raise _refused(name, _("absolute paths are not accepted"))
    if ".." in name.replace("\\", "/").split("/"):
        raise _refused(name, _("paths with '..' are not accepted"))
    if "\0" in name:
        raise _refused(name, _("names with NUL bytes are not accepted"))
    clean = posixpath.normpath(name)
    if clean == "." and not member.isdir():
        raise _refused(name, _("not a file name"))
    return clean


def single_folder(fileobj, *, mode="r:gz"):
    """The one top-level folder that holds every member of the checked archive in
    `fileobj` (binary, at its start), or None when some member sits at the root.

    Packing the folder instead of its contents (`tar czf champion.tgz mychampion/`)
    is the usual mistake; the compile would find no source file at the root.
    """
    folder = None
    with tarfile.open(fileobj=fileobj, mode=mode) as tar:
        for member in tar:
            name = posixpath.normpath(member.name)
            if name == ".":
                continue
            top, _, rest = name.partition("/")
            if not rest and not member.isdir():
                return None
            if folder not in (None, top):
                return None
            folder = top
    return folder


def strip_folder(fileobj, folder, out, *, mode="r:gz"):
    """Write to the binary file `out` the checked archive in `fileobj` with `folder/`
    taken off every member's name: its contents at the root (see `single_folder`)."""
    with tarfile.open(fileobj=fileobj, mode=mode) as tar, \
            tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as flat:
        for member in tar:
            name = posixpath.normpath(member.name)
            if name in (".", folder):
                continue
            member.name = name[len(folder) + 1:]
            flat.addfile(member, tar.extractfile(member) if member.isfile() else None)


def _check_link(name, target, all_links):
    """Refuse the link `name` -> `target` unless it resolves inside the archive. The walk
    is lexical, which is exact because no directory on the way may be a link itself."""
    refused = _refused(name, _("links must stay inside the archive"))
    if not target or "\0" in target or target.startswith("/"):
        raise refused
    if any(directory in all_links for directory in _ancestors(name)):
        raise refused
    position = name.split("/")[:-1]
    parts = target.split("/")
    for index, part in enumerate(parts):
        if part in ("", "."):
            continue
        if part == "..":
            if not position:
                raise refused
            position.pop()
            continue
        position.append(part)
        if index < len(parts) - 1 and "/".join(position) in all_links:
            raise refused


def _write(tar, member, name, destination):
    path = os.path.join(destination, name)
    try:
        if member.isdir():
            os.makedirs(path, mode=0o755, exist_ok=True)
            return
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        # O_NOFOLLOW: never written through a link (none exists yet; belt and braces).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except _CONFLICTS as e:
        raise _unpack_failure(member.name, e) from None
    with os.fdopen(fd, "wb") as out:
        try:
            shutil.copyfileobj(tar.extractfile(member), out)
        except _STREAM_ERRORS as e:
            raise _corrupt(e) from None
        out.flush()
        os.fchmod(fd, (member.mode & 0o755) | 0o600)
        os.utime(fd, (member.mtime, member.mtime))


def _write_link(name, target, destination):
    path = os.path.join(destination, name)
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        os.symlink(target, path)
    except _CONFLICTS as e:
        raise _unpack_failure(name, e) from None


def _refused(name, why):
    """The member `name` refused: "'a/b': links are not accepted"."""
    return ArchiveError(_("%(name)s: %(why)s") % {"name": repr(name), "why": why})


def _unpack_failure(name, error):
    return _refused(name, _("cannot be unpacked (%(error)s)") % {"error": error.strerror})


def _corrupt(error):
    return ArchiveError(_("corrupt archive (%(reason)s)") % {"reason": _reason(error)})


def _ancestors(name):
    """The directories above the member `name`: "a/b/c" -> "a", "a/b"."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _reason(error):
    return str(error).strip() or type(error).__name__

