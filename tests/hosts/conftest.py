"""A cluster spread over hosts: site and master in the root network namespace,
each worker in a namespace of its own (devtools.netns.TestHost) joined to
the root one by a veth pair, all on one filesystem as with an NFS mount.

Needs root (network namespaces) and iproute2.
"""

import os
import random
import subprocess

import pytest
from django.db import connection

from devtools.contest_data import sql_section
from devtools.netns import TestHost
from stechec.local.cluster import LocalCluster
from tests.conftest import require_root, require_tool

# Namespaces "sth<n>" with n in this range: apart from other tests' and tools'.
HOST_INDEXES = range(200, 250)
# 20 heartbeats: a loaded machine may hold up a few, and a healthy worker must never be
# taken for the one cut off.
WORKER_TIMEOUT_SECS = 10.0


def free_host_indexes(count):
    """Indexes of TestHosts no one uses now (no namespace and no address of that name)."""
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                check=True, timeout=30).stdout
    addresses = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True,
                               check=True, timeout=30).stdout
    taken = {line.split()[0] for line in namespaces.splitlines() if line.strip()}
    free = [n for n in HOST_INDEXES
            if f"sth{n}" not in taken and f"10.213.{n}." not in addresses]
    if len(free) < count:
        raise RuntimeError(f"fewer than {count} free test host indexes in {HOST_INDEXES}")
    return free[:count]


@pytest.fixture
def hosts():
    """Two TestHosts, deleted at the end whatever happened."""
    require_root("network namespaces for the worker hosts")
    require_tool("ip", "network namespaces for the worker hosts")
    made = []
    try:
        for index in free_host_indexes(2):
            host = TestHost(index, prefix="sth")
            made.append(host)
            host.create()
        yield made
    finally:
        for host in made:
            host.destroy()


@pytest.fixture
def spread_cluster(transactional_db, hosts, tmp_path):
    """Site and master (on 0.0.0.0) here, one worker in each host, on the test database."""
    cluster = LocalCluster(
        tmp_path / "cluster", sql=sql_section(connection), workers=2, slots=3,
        worker_hosts=hosts, master_listen="0.0.0.0", heartbeat_secs=0.5,
        worker_timeout_secs=WORKER_TIMEOUT_SECS,
        # Each turn of the slow champion takes a second.
        worker_settings={"match": {"time_ms": 4000}},
        # A range no other run uses (workers refuse to share sandbox ids).
        first_uid=600000 + random.randrange(1000) * 2000)
    os.makedirs(cluster.path("static"), exist_ok=True)
    cluster.write_configs()
    try:
        cluster.start()
        cluster.wait_for_workers(2)
        yield cluster
    finally:
        cluster.stop()
        # Shown by pytest when the test failed.
        for name in sorted(os.listdir(cluster.path("logs"))):
            with open(cluster.path("logs", name), errors="replace") as f:
                print(f"==== {name}\n{f.read()[-6000:]}")
        # The cluster's connections must be gone before the test database is flushed.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
