"""Champion archives built in memory: for the campaigns and the tests, good or hostile."""

import gzip
import io
import tarfile

BLOCK = 2**20


def tgz(members):
    """A .tgz of `members`: name -> bytes, or name -> a callable tweaking the TarInfo."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if callable(content):
                content(info)
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def zero_bomb(size, name="champion.c"):
    """A .tgz whose one member unpacks to `size` zero bytes (about 1 MB packed per GiB)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packed:
        info = tarfile.TarInfo(name)
        info.size = size
        packed.write(info.tobuf())
        block = bytes(BLOCK)
        for start in range(0, size, BLOCK):
            packed.write(block[:min(BLOCK, size - start)])
        # Padding to a whole record, then the two empty blocks that end a tar.
        packed.write(bytes(-size % tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE))
    return buffer.getvalue()
