"""Test hosts on one machine: network namespaces joined to the root one by veth pairs.

Each `TestHost` is a namespace with one link to the root namespace: the root
side is 10.213.<n>.1, the host 10.213.<n>.2 (a /30 of our own, reachable only
from this machine). The filesystem is shared, as an NFS mount would be.
Cutting the link (`cut()`) is the network failure the tests and tools/chaos
need; `restore()` brings it back. Needs root and iproute2.
"""

import subprocess


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class TestHost:
    __test__ = False  # not a pytest test class

    def __init__(self, index, prefix="stt"):
        self.index = index
        self.name = f"{prefix}{index}"
        self.root_link = f"{self.name}-r"
        self.host_link = f"{self.name}-h"
        self.root_address = f"10.213.{index}.1"
        self.address = f"10.213.{index}.2"

    def create(self):
        self.destroy()
        _ip("netns", "add", self.name)
        _ip("link", "add", self.root_link, "type", "veth", "peer", "name", self.host_link)
        _ip("link", "set", self.host_link, "netns", self.name)
        _ip("addr", "add", f"{self.root_address}/30", "dev", self.root_link)
        _ip("-n", self.name, "addr", "add", f"{self.address}/30", "dev", self.host_link)
        _ip("-n", self.name, "link", "set", "lo", "up")
        self.restore()
        return self

    def cut(self):
        _ip("link", "set", self.root_link, "down")

    def restore(self):
        _ip("link", "set", self.root_link, "up")
        _ip("-n", self.name, "link", "set", self.host_link, "up")

    def command(self, argv):
        """`argv` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def destroy(self):
        # Deleting the namespace deletes the veth pair with it.
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "delete", self.root_link], capture_output=True, timeout=30)
