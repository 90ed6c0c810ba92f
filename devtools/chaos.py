"""tools/chaos: the real cluster under a stream of matches and compilations, and faults.

A `Campaign` runs a LocalCluster (gunicorn, master-node, worker nodes as
processes; the last worker in a network namespace of its own) on a private
PostgreSQL server, inserts matches and champions through the models as the
site does, and meanwhile injects faults at random points of the stream
(seeded): SIGKILL of a worker then a restart, SIGKILL of the master then a
restart, one PostgreSQL restart, one worker's network cut for longer than
the heartbeat timeout, matches of champions that never answer. Once the
stream has drained it checks the invariants (devtools.invariants) and
prints `chaos matches=<n> faults=<n> lost=<n> doubled=<n> stuck=<n> orphans=<n>`.
See docs/reliability.md.
"""

import argparse
import fcntl
import io
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import xmlrpc.client

import yaml

from devtools import invariants
from devtools.netns import TestHost
from devtools.postgres import PrivatePostgres
from stechec.common.rpc import RPCClient
from stechec.common.tasks import MATCH_STATUSES, Status
from stechec.local.cluster import LocalCluster
from stechec.local.processes import Service
from stechec.local.seed import samples_dir, source_archive

logger = logging.getLogger("chaos")

# How long the workers may take to report idle once every task is finished: then the
# orphans are counted, whether they did or not.
IDLE_WAIT_SECS = 120

# Champions of the stream: quick to build and to run.
SAMPLES = ("python-random", "python-good", "c-random", "c-good")
# A champion that never answers and ignores SIGTERM: the match must still end.
SLEEPER = ('"""Never answers: sleeps forever, deaf to SIGTERM."""\n'
           "import signal\nimport time\n\n"
           "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
           "while True:\n    time.sleep(3600)\n")


class Plan:
    """How big a campaign is: matches, faults of each kind, time bound."""

    def __init__(self, short, matches=None, seed=None, time_limit=None):
        self.short = short
        self.matches = matches or (120 if short else 1000)
        kills = {"kill_worker": 3, "kill_master": 2} if short else \
            {"kill_worker": 16, "kill_master": 8}
        self.faults = {**kills, "restart_postgres": 1, "cut_network": 1 if short else 2,
                       "flood_slots": 1 if short else 3}
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self.time_limit = time_limit or (260 if short else 3600)
        # Matches new or running at once: enough to keep every slot busy.
        self.in_flight = 12 if short else 24
        self.champion_every = 15


class Campaign:
    def __init__(self, plan, var_dir, workers=3, slots=6):
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.var_dir = var_dir
        self.deadline = time.monotonic() + plan.time_limit
        self.postgres = PrivatePostgres(parent=var_dir)
        # A namespace (10.213.<100 + n>.x) and sandbox user ids of this campaign's own, away
        # from the tests' (62000 and up): campaigns and test runs can share a machine.
        self._lock, number = claim_campaign_number()
        self.host = TestHost(100 + number, prefix="chaos")
        self.cluster = LocalCluster(
            os.path.join(var_dir, "cluster"), sql=self.postgres.sql_section("stechec"),
            workers=workers, slots=slots, worker_hosts=[None] * (workers - 1) + [self.host],
            master_listen="0.0.0.0", heartbeat_secs=1.0, worker_timeout_secs=5.0,
            first_uid=70000 + number * 3000)
        self.faults = 0
        self.launched = 0
        self.uploads = 0
        self.tournament = None
        self.sleepers = []

    # Set-up and tear-down

    def setup(self):
        self.postgres.start()
        self.postgres.create_database("stechec")
        self.host.create()
        self.cluster.write_configs()
        self._short_turns()
        self.cluster.manage("migrate", "--no-input", "-v", "0")
        os.environ.update(self.cluster.environment())
        import django
        django.setup()
        self.cluster.start()
        self.cluster.wait_for_workers(len(self.cluster.worker_ports))
        self._first_data()

    def _short_turns(self):
        """Champions get 200 ms an answer: a match of sleepers ends in seconds, not minutes."""
        for index in range(len(self.cluster.worker_ports)):
            path = self.cluster.path(f"worker-node-{index + 1}.yml")
            with open(path) as f:
                document = yaml.safe_load(f)
            document["match"] = {"time_ms": 200}
            with open(path, "w") as f:
                yaml.safe_dump(document, f, sort_keys=False)

    def teardown(self):
        for step in (self.cluster.stop, self.host.destroy, self.postgres.stop):
            try:
                step()
            except Exception:
                logger.exception("chaos: tear-down step %s failed", step.__qualname__)

    # The stream

    def _first_data(self):
        from stechec.contest.models import Tournament

        self.tournament = Tournament.objects.create(name="chaos")
        for name in SAMPLES[:2]:
            self._upload(name)
        sleeper_dir = os.path.join(self.var_dir, "sleeper")
        os.makedirs(sleeper_dir, exist_ok=True)
        for name, text in (("_lang", "python\n"), ("champion.py", SLEEPER)):
            with open(os.path.join(sleeper_dir, name), "w") as f:
                f.write(text)
        self.sleepers = [self._upload_directory(sleeper_dir, "sleeper") for _ in range(2)]

    def _upload(self, sample):
        return self._upload_directory(os.path.join(samples_dir(self.cluster.game), sample),
                                      sample)

    def _upload_directory(self, directory, name):
        from django.contrib.auth.models import User
        from django.core.files import File

        from stechec.www.contest.uploads import store_champion

        self.uploads += 1
        user = retry_database(User.objects.create, username=f"chaos-{self.uploads}")
        archive = source_archive(directory)
        with File(io.BytesIO(archive.read()), name=f"{name}.tgz") as upload:
            return retry_database(store_champion, user, name, "tools/chaos", upload)

    def _ready_champions(self):
        from stechec.contest.models import Champion

        sleepers = {c.id for c in self.sleepers}
        return [c for c in Champion.objects.filter(status=Status.READY) if c.id not in sleepers]

    def _in_flight(self):
        from stechec.contest.models import Match

        return Match.objects.filter(status__in=(Status.NEW, Status.PENDING)).count()

    def _launch(self, champions):
        from stechec.contest.models import Match, Priority

        match = retry_database(Match.launch, champions, tournament=self.tournament,
                               priority=Priority.TOURNAMENT)
        self.launched += 1
        return match

    def feed(self):
        """Top the stream up: matches between ready champions, now and then an upload."""
        ready = retry_database(self._ready_champions)
        if len(ready) < 2:
            return
        room = self.plan.in_flight - retry_database(self._in_flight)
        for _ in range(min(room, self.plan.matches - self.launched)):
            self._launch(self.rng.sample(ready, 2))
            if self.launched % self.plan.champion_every == 0:
                self._upload(self.rng.choice(SAMPLES))

    # The faults

    def fault_points(self):
        """(match count, fault kind): where in the stream each fault strikes (seeded)."""
        kinds = [kind for kind, count in self.plan.faults.items() for _ in range(count)]
        self.rng.shuffle(kinds)
        last = max(len(kinds) + 1, int(self.plan.matches * 0.9))
        points = sorted(self.rng.sample(range(1, last), len(kinds)))
        return list(zip(points, kinds, strict=True))

    def strike(self, kind):
        self.faults += 1
        logger.info("chaos: fault %d: %s (%d matches launched)", self.faults, kind,
                    self.launched)
        getattr(self, kind)()

    def kill_worker(self):
        index = self.rng.randrange(len(self.cluster.worker_ports))
        self._kill(self.cluster.workers[index])
        time.sleep(self.rng.uniform(0.2, 3))
        self.cluster.start_worker(index)

    def kill_master(self):
        master = next(s for s in self.cluster.supervisor.services
                      if s.name == "master-node" and s.running)
        self._kill(master)
        time.sleep(self.rng.uniform(0.2, 3))
        self.cluster.supervisor.start(Service(master.name, master.argv, master.log_path,
                                              env=master.env, ready=master.ready))

    def _kill(self, service):
        service.signal(signal.SIGKILL)
        service.process.wait()
        # Forget it, so that stopping the cluster never signals a reused process group.
        self.cluster.supervisor.services.remove(service)

    def restart_postgres(self):
        self.postgres.restart()

    def cut_network(self):
        self.host.cut()
        time.sleep(self.cluster.worker_timeout_secs * 1.5 + 2)
        self.host.restore()

    def flood_slots(self):
        """Enough matches of never-answering champions to fill every worker's slots."""
        per_match = 1 + 2
        for _ in range(len(self.cluster.worker_ports) * (self.cluster.slots // per_match)):
            self._launch(self.sleepers)

    # The run

    def run(self):
        schedule = self.fault_points()
        while time.monotonic() < self.deadline:
            if schedule and self.launched >= schedule[0][0]:
                self.strike(schedule.pop(0)[1])
                continue
            if self.launched >= self.plan.matches and not schedule:
                break
            self.feed()
            self._check_services()
            time.sleep(0.2)
        if schedule:
            logger.warning("chaos: time limit reached with %d faults not injected",
                           len(schedule))
        self.drain()

    def _check_services(self):
        for service in self.cluster.supervisor.failed():
            raise RuntimeError(f"{service.name} exited on its own with status "
                               f"{service.process.returncode}:\n{service.log_tail()}")

    def drain(self):
        """Wait for every task to finish, within what is left of the time limit."""
        from stechec.contest.models import Champion, Match

        def busy():
            return (Match.objects.exclude(status__in=MATCH_STATUSES).count()
                    + Champion.objects.filter(status__in=(Status.NEW, Status.PENDING)).count())

        while time.monotonic() < self.deadline and retry_database(busy):
            self._check_services()
            time.sleep(1)
        self._wait_for_idle_workers()

    def _wait_for_idle_workers(self):
        """Wait (IDLE_WAIT_SECS at most) until the master hears from every worker that all its
        slots are free and it holds no task: a worker frees a task's slots once every program
        of it is gone, so any sandbox process left then is an orphan. (A stale attempt may
        still run after its match was done elsewhere.)"""
        master = RPCClient(self.cluster.master_url, self.cluster.secret, timeout=30)

        def idle():
            try:
                workers = master.status()["workers"]
            except (OSError, xmlrpc.client.Error):
                return False
            return len(workers) == len(self.cluster.worker_ports) and all(
                w["free_slots"] == w["max_slots"] and not w["running"] for w in workers)

        deadline = time.monotonic() + IDLE_WAIT_SECS
        while not idle() and time.monotonic() < deadline:
            time.sleep(0.5)

    def check(self):
        from stechec.contest.models import Champion, Match, MatchPlayer

        matches = list(Match.objects.order_by("id"))
        champions = list(Champion.objects.select_related("author").order_by("id"))
        players = {}
        for player in MatchPlayer.objects.order_by("id"):
            players.setdefault(player.match_id, []).append(player)
        root, game = self.cluster.shared_dir, self.cluster.game
        applied = invariants.applied_results()
        slots = self.cluster.slots
        work_directories = [f"/tmp/stechec-worker-{port}" for port in self.cluster.worker_ports]
        found = {
            "lost": invariants.lost(matches, champions, players, root, game)
            + invariants.tournament_points(matches, players, root, game),
            "doubled": invariants.doubled(matches, champions, applied),
            "stuck": invariants.unfinished(matches, champions),
            "orphans": invariants.orphan_processes([(f, f + slots)
                                                    for f in self.cluster.first_uids],
                                                   work_directories)
            + invariants.partial_files(root),
        }
        statuses = {}
        for match in matches:
            statuses[match.status] = statuses.get(match.status, 0) + 1
        return len(matches), statuses, found


def claim_campaign_number(lock_dir="/run/lock", count=20):
    """(lock file, n): the first n in 0..count-1 no other running campaign holds."""
    for number in range(count):
        descriptor = os.open(os.path.join(lock_dir, f"stechec-chaos-{number}"),
                             os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return descriptor, number
    raise RuntimeError(f"{count} chaos campaigns are already running on this machine")


def retry_database(function, *args, tries=60, **kwargs):
    """Call `function`, reconnecting while the database is away (it is restarted on purpose)."""
    from django.db import InterfaceError, OperationalError, connection

    for attempt in range(tries):
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError) as e:
            if attempt == tries - 1:
                raise
            logger.info("chaos: database unavailable (%s); retrying", str(e).strip()[:80])
            connection.close()
            time.sleep(0.5)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="chaos", description="Run the real cluster under a stream of matches and "
        "compilations while killing workers, the master and PostgreSQL, cutting a worker's "
        "network and flooding slots with champions that never answer; then check that no "
        "match was lost, doubled or stuck and no process or partial file was left behind.")
    parser.add_argument("--short", action="store_true",
                        help="the CI run: >= 100 matches, >= 5 faults, a few minutes")
    parser.add_argument("--seed", type=int, help="seed of every random choice (printed)")
    parser.add_argument("--matches", type=int, help="matches to run (1000; --short 120)")
    parser.add_argument("--time-limit", type=float, metavar="SECS",
                        help="stop launching and waiting after this long (3600; --short 260)")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the cluster's logs and shared directory under DIR")
    parser.add_argument("--input", action="store_true",
                        help="run the hostile-input campaign instead "
                        "(python -m devtools.hostile_input)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def hostile_input(argv):
    os.execv(sys.executable, [sys.executable, "-m", "devtools.hostile_input", *argv])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_arguments(argv)
    if args.input:
        return hostile_input([a for a in argv if a != "--input"])
    if os.geteuid() != 0:
        print("chaos: needs root (network namespaces, the sandbox's user ids, a private "
              "PostgreSQL run as postgres)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(message)s", stream=sys.stdout)
    plan = Plan(args.short, args.matches, args.seed, args.time_limit)
    print(f"chaos: seed {plan.seed}, {plan.matches} matches, "
          f"{sum(plan.faults.values())} faults, at most {plan.time_limit:.0f} s", flush=True)
    var_dir = tempfile.mkdtemp(prefix="stechec-chaos-")
    os.chmod(var_dir, 0o755)
    campaign = Campaign(plan, var_dir)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        campaign.setup()
        campaign.run()
        matches, statuses, found = campaign.check()
    finally:
        campaign.teardown()
        if args.keep:
            shutil.copytree(campaign.cluster.var_dir, args.keep, dirs_exist_ok=True)
        shutil.rmtree(var_dir, ignore_errors=True)
    for name, problems in found.items():
        for problem in problems[:20]:
            print(f"chaos: {name}: {problem}")
        if len(problems) > 20:
            print(f"chaos: {name}: ... and {len(problems) - 20} more")
    print("chaos: matches by status: "
          + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
          + f"; champions uploaded {campaign.uploads}")
    counts = {name: len(problems) for name, problems in found.items()}
    print(f"chaos matches={matches} faults={campaign.faults} lost={counts['lost']} "
          f"doubled={counts['doubled']} stuck={counts['stuck']} orphans={counts['orphans']}",
          flush=True)
    return 1 if any(counts.values()) else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
