"""Champion archives: what is accepted, and every hostile shape refused with its reason."""

import io
import tarfile

import pytest

from stechec.common import archive
from stechec.common.archive import ArchiveError
from stechec.local.archives import zero_bomb


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
