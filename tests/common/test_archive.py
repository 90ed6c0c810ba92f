"""Champion archives: what is accepted, and every hostile shape refused with its reason."""

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from devtools.archives import zero_bomb
from stechec.common import archive
from stechec.common.archive import ArchiveError

ROOT = Path(__file__).resolve().parents[2]


def make_tgz(path, members):
    """members: (TarInfo, bytes or file object or None)."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if isinstance(data, bytes):
                info.size = len(data)
                data = io.BytesIO(data)
            tar.addfile(info, data)
    return path


def regular(name, data=b"int main() { return 0; }\n"):
    return tarfile.TarInfo(name), data


def with_mode(member, mode):
    member[0].mode = mode
    return member


def directory(name):
    return special(name, tarfile.DIRTYPE, mode=0o755)


def special(name, kind, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info, None


def refusal(path, **limits):
    with open(path, "rb") as f, pytest.raises(ArchiveError) as raised:
        archive.check(f, **limits)
    return str(raised.value)


def test_a_plain_champion_is_accepted_and_extracted(tmp_path):
    path = make_tgz(tmp_path / "champion.tgz", [
        directory("src"), regular("src/main.c"), regular("_lang", b"c\n")])
    (tmp_path / "out").mkdir()
    archive.extract(path, tmp_path / "out")
    assert (tmp_path / "out" / "src" / "main.c").read_bytes().startswith(b"int main")
    assert (tmp_path / "out" / "_lang").read_text() == "c\n"


def test_a_file_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / "champion.tgz"
    path.write_bytes(b"#include <stdio.h>\n")
    assert refusal(path).startswith("not a gzip-compressed tar archive")


def test_a_plain_tar_is_refused(tmp_path):
    path = tmp_path / "champion.tar"
    with tarfile.open(path, "w") as tar:
        info, data = regular("main.c")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert refusal(path).startswith("not a gzip-compressed tar archive")


def test_a_truncated_archive_is_refused(tmp_path):
    whole = make_tgz(tmp_path / "whole.tgz", [regular("main.c", bytes(range(256)) * 400)])
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(whole.read_bytes()[:200])
    assert refusal(cut).startswith(("corrupt archive", "not a gzip-compressed"))


@pytest.mark.parametrize("members, reason", [
    ([regular("/etc/passwd")], "'/etc/passwd': absolute paths are not accepted"),
    ([regular("../../outside.c")], "'../../outside.c': paths with '..' are not accepted"),
    ([regular("src/../../x.c")], "'src/../../x.c': paths with '..' are not accepted"),
    ([special("link", tarfile.SYMTYPE, linkname="/etc/shadow")],
     "'link': links are not accepted"),
    ([regular("main.c"), special("hard", tarfile.LNKTYPE, linkname="main.c")],
     "'hard': links are not accepted"),
    ([special("tty", tarfile.CHRTYPE, devmajor=4, devminor=1)],
     "'tty': only regular files and directories are accepted"),
    ([special("disk", tarfile.BLKTYPE, devmajor=8, devminor=0)],
     "'disk': only regular files and directories are accepted"),
    ([special("pipe", tarfile.FIFOTYPE)],
     "'pipe': only regular files and directories are accepted"),
    ([directory("empty-dir")], "the archive holds no file"),
    ([with_mode(regular("tool"), 0o4755)],
     "'tool': files with the setuid bit are not accepted (chmod ug-s, then pack again)"),
    ([with_mode(regular("src/tool"), 0o2755)],
     "'src/tool': files with the setgid bit are not accepted (chmod ug-s, then pack again)"),
    ([with_mode(regular("tool"), 0o6755)],
     "'tool': files with the setuid and setgid bit are not accepted (chmod ug-s, then pack "
     "again)"),
])
def test_hostile_members_are_refused_with_their_name(tmp_path, members, reason):
    path = make_tgz(tmp_path / "champion.tgz", members)
    assert refusal(path) == reason


def test_too_many_members_are_refused(tmp_path):
    path = make_tgz(tmp_path / "champion.tgz", [regular(f"f{i}.c", b"") for i in range(30)])
    assert refusal(path, max_members=20) == "too many files (more than 20)"


def test_a_small_archive_unpacking_to_a_gigabyte_is_refused(tmp_path):
    path = tmp_path / "bomb.tgz"
    path.write_bytes(zero_bomb(1024 ** 3, "zeros.c"))
    assert path.stat().st_size < 2 * 1024 * 1024
    assert refusal(path) == "unpacks to more than 64 MiB"


def test_extract_checks_before_writing_anything(tmp_path):
    path = make_tgz(tmp_path / "champion.tgz", [regular("ok.c"), regular("../escape.c")])
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError):
        archive.extract(path, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "escape.c").exists()


def link(name, target):
    return special(name, tarfile.SYMTYPE, linkname=target)


def test_unpacked_files_get_sane_modes_and_the_unpackers_ownership(tmp_path):
    setuid, writable = regular("setuid-tool"), regular("writable.c")
    setuid[0].mode, setuid[0].uid = 0o4777, 1234
    writable[0].mode, writable[0].mtime = 0o666, 1_000_000_000
    path = make_tgz(tmp_path / "champion.tgz", [setuid, writable])
    (tmp_path / "out").mkdir()
    # A compiled archive's bits are accepted (sources with them are refused), then dropped.
    archive.extract(path, tmp_path / "out", set_id_bits=True)
    tool = (tmp_path / "out" / "setuid-tool").stat()
    source = (tmp_path / "out" / "writable.c").stat()
    assert tool.st_mode & 0o7777 == 0o755, "no setuid, no write for others"
    assert source.st_mode & 0o7777 == 0o644
    assert source.st_mtime == 1_000_000_000
    assert tool.st_uid == os.geteuid(), "the archive's owner is not applied"


def test_a_compiled_archive_keeps_its_links_inside(tmp_path):
    path = make_tgz(tmp_path / "compiled.tgz", [
        directory("lib"), regular("lib/libgame.so.1"), link("lib/libgame.so", "libgame.so.1"),
        regular("bin/champion"), link("champion", "bin/champion"),
        link("bin/lib", "../lib/libgame.so")])
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="links are not accepted"):
        archive.extract(path, tmp_path / "out")
    archive.extract(path, tmp_path / "out", links=True)
    out = tmp_path / "out"
    assert os.readlink(out / "champion") == "bin/champion"
    assert (out / "champion").read_bytes() == (out / "bin" / "champion").read_bytes()
    assert (out / "bin" / "lib").resolve() == (out / "lib" / "libgame.so.1").resolve()


OUTSIDE = "links must stay inside the archive"


@pytest.mark.parametrize("members, reason", [
    ([regular("a.c"), link("passwd", "/etc/passwd")], f"'passwd': {OUTSIDE}"),
    ([regular("a.c"), link("up", "../outside")], f"'up': {OUTSIDE}"),
    ([regular("a.c"), link("deep/up", "../../outside")], f"'deep/up': {OUTSIDE}"),
    # Lexically inside, but "here" is the destination itself: here/.. is its parent.
    ([regular("a.c"), link("here", "."), link("escape", "here/..")],
     f"'escape': {OUTSIDE}"),
    # A link placed under another link would be written through it.
    ([regular("a.c"), link("dir", "."), link("dir/x", "a.c")], f"'dir/x': {OUTSIDE}"),
    ([regular("a.c"), link("a.c", "b.c")],
     "'a.c': a link in the place of a file or a directory"),
    ([regular("d/f.c"), link("d", ".")], "'d': a link in the place of a file or a directory"),
    ([regular("a.c"), special("hard", tarfile.LNKTYPE, linkname="a.c")],
     "'hard': links are not accepted"),
])
def test_links_that_could_escape_are_refused_before_writing(tmp_path, members, reason):
    path = make_tgz(tmp_path / "compiled.tgz", members)
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError) as raised:
        archive.extract(path, tmp_path / "out", links=True)
    assert str(raised.value) == reason
    assert list((tmp_path / "out").iterdir()) == []


# The system's Python (Debian 12's is 3.11.2, without TarFile.extractall(filter=...),
# new in 3.11.4) and Debian's next one's, when there is one on PATH.
OTHER_PYTHONS = {"system": "/usr/bin/python3", "3.13": "python3.13"}
# Run by another Python, importing this checkout's archive module only.
UNDER_OTHER_PYTHON = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from stechec.common import archive
results = {"version": list(sys.version_info[:3])}
for name in sorted(os.listdir(sys.argv[2])):
    out = os.path.join(sys.argv[3], name)
    os.mkdir(out)
    try:
        archive.extract(os.path.join(sys.argv[2], name), out, links=True)
        results[name] = sorted(os.listdir(out))
    except archive.ArchiveError as e:
        results[name] = "refused: " + str(e)
print(json.dumps(results))
"""


def _runs(interpreter):
    try:
        return subprocess.run([interpreter, "-c", "pass"], capture_output=True,
                              timeout=60).returncode == 0
    except OSError:
        return False


@pytest.mark.parametrize("python", sorted(OTHER_PYTHONS))
def test_other_pythons_unpack_with_the_same_guarantees(tmp_path, python):
    interpreter = OTHER_PYTHONS[python]
    if not _runs(interpreter):
        pytest.skip(f"no {interpreter} here")
    archives, out = tmp_path / "archives", tmp_path / "out"
    archives.mkdir()
    out.mkdir()
    make_tgz(archives / "good.tgz", [directory("src"), regular("src/main.c"),
                                     regular("_lang", b"c\n"), link("main.c", "src/main.c")])
    make_tgz(archives / "dotdot.tgz", [regular("../escape.c")])
    make_tgz(archives / "link-out.tgz", [regular("a.c"), link("x", "../../etc/passwd")])
    make_tgz(archives / "device.tgz", [special("tty", tarfile.CHRTYPE, devmajor=4)])
    done = subprocess.run([interpreter, "-c", UNDER_OTHER_PYTHON, str(ROOT), str(archives),
                           str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    print(python, "Python", results.pop("version"))
    assert results == {
        "good.tgz": ["_lang", "main.c", "src"],
        "dotdot.tgz": "refused: '../escape.c': paths with '..' are not accepted",
        "link-out.tgz": "refused: 'x': links must stay inside the archive",
        "device.tgz": "refused: 'tty': only regular files and directories are accepted",
    }
    assert (out / "good.tgz" / "main.c").read_text().startswith("int main")
    assert not (tmp_path / "escape.c").exists()


def test_a_setgid_directory_is_accepted(tmp_path):
    # How groups share a folder: nothing to refuse.
    path = make_tgz(tmp_path / "champion.tgz", [special("src", tarfile.DIRTYPE, mode=0o2775),
                                                regular("src/main.c")])
    with open(path, "rb") as f:
        assert archive.check(f) == 2


def test_the_folder_holding_every_member_is_found_and_taken_off(tmp_path):
    path = make_tgz(tmp_path / "champion.tgz", [
        directory("./mine"), regular("./mine/main.c", b"int x;"), directory("mine/lib"),
        regular("mine/lib/util.c", b"int y;"), regular("mine/_lang", b"c\n")])
    with open(path, "rb") as f:
        assert archive.single_folder(f) == "mine"
        f.seek(0)
        flat = io.BytesIO()
        archive.strip_folder(f, "mine", flat)
    flat.seek(0)
    with tarfile.open(fileobj=flat, mode="r:gz") as tar:
        assert [(m.name, m.isdir()) for m in tar] == [
            ("main.c", False), ("lib", True), ("lib/util.c", False), ("_lang", False)]
        assert tar.extractfile("lib/util.c").read() == b"int y;"


@pytest.mark.parametrize("members", [
    [regular("main.c"), regular("mine/util.c")],
    [regular("one/main.c"), regular("two/util.c")],
    [regular("main.c")],
])
def test_an_archive_with_a_file_at_the_root_or_two_folders_is_kept(tmp_path, members):
    path = make_tgz(tmp_path / "champion.tgz", members)
    with open(path, "rb") as f:
        assert archive.single_folder(f) is None
