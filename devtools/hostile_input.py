"""Hostile input against a whole local cluster (`tools/chaos --input`).

Starts a LocalCluster in a temporary directory (SQLite, or `--postgres URL`),
seeds users, champions and a finished match, then throws at it hostile RPC
requests (to the master and to a worker), hostile forms, uploads and URLs
(to the website), and hostile champions (through the site, in real
matches). Prints one line per problem, and last:

    inputs=<n> crashes=<n> accepted_bad=<n> leaked=<n>

Exits 1 unless every count but `inputs` is 0.
"""

import argparse
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time

from devtools import hostile_champions, hostile_rpc, hostile_site
from devtools.hostile_state import ClusterState, differences
from stechec.common import rpc, share
from stechec.common.tasks import COMPILATION_STATUSES, MATCH_STATUSES, Status
from stechec.local.cluster import LocalCluster
from stechec.local.options import postgres_section

logger = logging.getLogger("hostile-input")

PHASES = ("rpc", "site", "champions")
PLAYERS = ("alice", "bob", "carol", *hostile_champions.AUTHORS)


class Tally:
    """The counts of the final line; each problem is printed as it is found."""

    def __init__(self):
        self.inputs = self.crashes = self.accepted = self.leaks = 0

    def input(self, count=1):
        self.inputs += count

    def crash(self, what, detail):
        self.crashes += 1
        print(f"CRASH: {what}: {detail}", flush=True)

    def accepted_bad(self, what, detail):
        self.accepted += 1
        print(f"ACCEPTED: {what}: {detail}", flush=True)

    def leaked(self, what, detail):
        self.leaks += 1
        print(f"LEAKED: {what}: {detail}", flush=True)

    @property
    def clean(self):
        return not (self.crashes or self.accepted or self.leaks)

    def line(self):
        return (f"inputs={self.inputs} crashes={self.crashes} accepted_bad={self.accepted} "
                f"leaked={self.leaks}")


def create_users(cluster):
    """The players, one organiser (staff); their passwords."""
    passwords = {name: f"pw-{os.urandom(8).hex()}" for name in PLAYERS + ("organiser",)}
    code = ("import json, os\nfrom django.contrib.auth.models import User\n"
            "for name, password in json.loads(os.environ['HOSTILE_USERS']).items():\n"
            "    staff = name == 'organiser'\n"
            "    User.objects.create_user(name, password=password, is_staff=staff,"
            " is_superuser=staff)\n")
    subprocess.run([sys.executable, "-m", "stechec.www.manage", "shell", "-c", code],
                   env=dict(cluster.environment(), HOSTILE_USERS=json.dumps(passwords)),
                   check=True, timeout=600)
    return passwords


def sample_archive(cluster, name):
    directory = os.path.join(share.share_dir(), "champions", cluster.game, name)
    return hostile_site.tgz({n: open(os.path.join(directory, n), "rb").read()
                             for n in sorted(os.listdir(directory))})


def _created_id(what, status, location, kind):
    found = re.search(rf"/{kind}/(\d+)/$", location or "")
    if status != 302 or not found:
        raise RuntimeError(f"{what}: HTTP {status}, redirected to {location}")
    return int(found.group(1))


def upload(client, name, archive, comment=""):
    status, _, location = client.post("champions/new/", {"name": name, "comment": comment},
                                      {"sources": ("champion.tgz", archive)})
    return _created_id(f"upload of {name!r} by {client}", status, location, "champions")


def launch(client, *champion_ids):
    fields = {f"champion_{n + 1}": str(pk) for n, pk in enumerate(champion_ids)}
    status, _, location = client.post("matches/new/", {**fields, "map": ""})
    return _created_id(f"match by {client}", status, location, "matches")


def new_map(client, name, contents):
    status, _, location = client.post("maps/new/", {"name": name, "contents": contents})
    return _created_id(f"map {name!r} by {client}", status, location, "maps")


def seed(cluster, state, clients, timeout):
    """Champions of alice and bob (one ready, one broken, one deleted), a map, a done match."""
    good = sample_archive(cluster, "c-good")
    alice, bob = clients["alice"], clients["bob"]
    context = {"upload": upload, "launch": launch,
               "alice_champion": upload(alice, "alice-good", good),
               "bob_champion": upload(bob, "bob-good", good),
               "unready_champion": upload(alice, "broken", hostile_site.champion_archive(
                   "this is not C")),
               "deleted_champion": upload(alice, "deleted", good),
               "map": new_map(alice, "plain", "a plain map\n")}
    status, _, _ = alice.post(f"champions/{context['deleted_champion']}/delete/", {})
    if status != 302:
        raise RuntimeError(f"alice cannot delete her champion: HTTP {status}")
    ids = [context[k] for k in ("alice_champion", "bob_champion", "unready_champion")]
    statuses = hostile_champions.wait_for(state, "stechec_champion", ids,
                                          set(COMPILATION_STATUSES), timeout)
    if [statuses[pk] for pk in ids] != [Status.READY, Status.READY, Status.ERROR]:
        raise RuntimeError(f"the seeded champions compiled as {statuses}")
    context["match"] = launch(alice, context["alice_champion"], context["bob_champion"])
    ended = hostile_champions.wait_for(state, "stechec_match", [context["match"]],
                                       set(MATCH_STATUSES), timeout)
    if ended[context["match"]] != Status.DONE:
        raise RuntimeError(f"the seeded match ended {ended}")
    players = state.query("SELECT id FROM stechec_matchplayer WHERE match_id = %s ORDER BY id",
                          (context["match"],))
    context["matchplayer_ids"] = [pk for (pk,) in players]
    context["alice_player_log"], context["bob_player_log"] = context["matchplayer_ids"]
    context["alice_id"] = state.query("SELECT id FROM auth_user WHERE username = %s",
                                      ("alice",))[0][0]
    return context


def node_status(url, secret):
    """A node's status() without what moves on its own (heartbeat times)."""
    status = rpc.RPCClient(url, secret, timeout=30).status()
    for worker in status.get("workers", []):
        worker.pop("last_heartbeat", None)
    if "workers" in status:
        status["workers"].sort(key=lambda w: (w["hostname"], w["port"]))
    return status


def wait_for_heartbeats(cluster, count, timeout=120):
    """Wait until the master heard `count` more heartbeats from every worker (`timeout`
    seconds at most: a worker the attacks broke never beats again, which the status shows)."""
    master = rpc.RPCClient(cluster.master_url, cluster.secret, timeout=30)
    deadline = time.monotonic() + timeout
    for _ in range(count):
        since = time.time()
        while not all(w["last_heartbeat"] > since for w in master.status()["workers"]):
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)


def rpc_phase(tally, cluster, state, context):
    worker_url = rpc.server_url("127.0.0.1", cluster.worker_ports[0])
    before = (state.snapshot(), node_status(cluster.master_url, cluster.secret),
              node_status(worker_url, cluster.secret))
    hostile_rpc.attack(tally, "master", hostile_rpc.RawRPC(cluster.master_url, cluster.secret),
                       hostile_rpc.master_calls(context["match"], context["matchplayer_ids"],
                                                context["alice_champion"]))
    hostile_rpc.attack(tally, "worker", hostile_rpc.RawRPC(worker_url, cluster.secret),
                       hostile_rpc.worker_calls(context["alice_champion"], "alice"))
    # What a bad call started would show by then.
    wait_for_heartbeats(cluster, 2)
    changed = differences(before[0], state.snapshot())
    for name, url, old in (("master", cluster.master_url, before[1]),
                           ("worker", worker_url, before[2])):
        try:
            new = node_status(url, cluster.secret)
        except (OSError, rpc.RPCError) as e:
            tally.crash(f"the {name} after the RPC attacks", f"no status: {e}")
            continue
        if new != old:
            changed.append(f"the {name}'s status went from {old} to {new}")
    for line in changed:
        tally.accepted_bad("RPC attacks changed the state", line)


def site_phase(tally, cluster, state, clients, context, timeout):
    hostile_site.attack_forms(tally, state, clients, context)
    for user in ("alice", None):
        hostile_site.attack_urls(tally, clients[user], hostile_site.bad_urls(context))
    hostile_site.attack_urls(tally, clients["organiser"], hostile_site.admin_urls())
    hostile_site.attack_private_urls(tally, clients, context)
    champions, maps = [], []
    for kind, fields in hostile_site.hostile_names():
        tally.input()
        if kind == "champion":
            champions.append(upload(clients["carol"], fields["name"],
                                    sample_archive(cluster, "c-good"), fields["comment"]))
        else:
            maps.append(new_map(clients["carol"], fields["name"], fields["contents"]))
    for pk in champions:
        if not state.query("SELECT id FROM stechec_champion WHERE id = %s", (pk,)):
            tally.accepted_bad("hostile champion name", f"champion {pk} not stored")
    ready = hostile_champions.wait_for(state, "stechec_champion", champions,
                                       set(COMPILATION_STATUSES), timeout)
    context.update(hostile_champions=champions, hostile_maps=maps,
                   hostile_match=launch(clients["carol"], champions[0],
                                        context["alice_champion"]))
    if set(ready.values()) != {Status.READY}:
        tally.accepted_bad("champions with hostile names", f"compiled as {ready}")
    hostile_champions.wait_for(state, "stechec_match", [context["hostile_match"]],
                               set(MATCH_STATUSES), timeout)
    hostile_site.check_escaped(tally, clients, context)


def check_alive(tally, cluster, clients):
    for service in cluster.supervisor.failed():
        tally.crash(service.name, f"exited with status {service.process.returncode}")
    status, _, _ = clients["alice"].get("champions/")
    if status != 200:
        tally.crash("the website", f"the champion list answers HTTP {status}")
    try:
        node_status(cluster.master_url, cluster.secret)
    except (OSError, rpc.RPCError) as e:
        tally.crash("the master", f"no status: {e}")


def run(var_dir, *, sql=None, phases=PHASES, timeout=300):
    """Run the chosen phases against a new cluster in var_dir; the Tally."""
    tally = Tally()
    cluster = LocalCluster(var_dir, sql=sql, workers=2, slots=4,
                           first_uid=500_000 + random.randrange(1000) * 2000)
    cluster.write_configs()
    cluster.manage("migrate", "--no-input", "-v", "0")
    passwords = create_users(cluster)
    state = ClusterState(cluster)
    try:
        cluster.start()
        cluster.wait_for_workers(len(cluster.worker_ports))
        clients = {None: hostile_site.SiteClient(cluster.url)}
        for name, password in passwords.items():
            clients[name] = hostile_site.SiteClient(cluster.url, name)
            clients[name].login(password)
        context = seed(cluster, state, clients, timeout)
        if "rpc" in phases:
            rpc_phase(tally, cluster, state, context)
        if "site" in phases:
            site_phase(tally, cluster, state, clients, context, timeout)
        if "champions" in phases:
            hostile_champions.attack(tally, cluster, state, clients, context, timeout)
        check_alive(tally, cluster, clients)
    finally:
        cluster.stop()
    return tally


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="hostile-input", description="Throw hostile RPC requests, forms, uploads, URLs "
        "and champions at a whole local cluster; count what was not refused.")
    parser.add_argument("--postgres", metavar="URL", type=postgres_section,
                        help="use this (empty) PostgreSQL database instead of SQLite")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated, among {', '.join(PHASES)} (default: all)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait for a compilation or a match (300)")
    parser.add_argument("--keep", metavar="DIR",
                        help="run in DIR and keep it (logs, database) instead of a temporary "
                        "directory")
    args = parser.parse_args(argv)
    args.phases = tuple(p for p in args.phases.split(",") if p)
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose among {', '.join(PHASES)}")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="hostile-input: %(message)s")
    if args.keep:
        tally = run(args.keep, sql=args.postgres, phases=args.phases, timeout=args.timeout)
    else:
        with tempfile.TemporaryDirectory(prefix="stechec-hostile-") as var_dir:
            tally = run(var_dir, sql=args.postgres, phases=args.phases, timeout=args.timeout)
    print(tally.line(), flush=True)
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
