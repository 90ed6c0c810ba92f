"""The contest's data: one source of truth for the website and the master node.

The database is the only task queue: the site commits `new` champions and
matches, the master moves them to `pending` (numbering each attempt) and then
to a final status. See docs/architecture.md ("Task life cycle") and
docs/master-node.md ("Task life cycle, as the master applies it").
"""

import datetime
import functools
import logging

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from stechec.common import paths
from stechec.common.tasks import Status as TaskStatus
from stechec.www.contest.ratings import INITIAL_MU, INITIAL_SIGMA

logger = logging.getLogger(__name__)


# The longest a task given back waits before it is claimed again.
MAX_RETRY_DELAY_SECS = 300.0


def retry_state(attempt, uncounted, reason, *, max_tries):
    """(status, failure_reason) of a task whose attempt `attempt` failed for the platform's
    reasons, `uncounted` of its attempts not counting: back to `new`, or `failed` once
    `max_tries` counted attempts failed."""
    tries = attempt - uncounted
    if tries >= max_tries:
        return TaskStatus.FAILED, f"gave up after {tries} attempts; last: {reason}"
    return TaskStatus.NEW, reason


def retry_delay(tries, first_delay):
    """Seconds a task waits in the queue after its `tries`-th counted try failed: the first
    retry `first_delay`, each next one twice as long, at most MAX_RETRY_DELAY_SECS.

    A cause that outlasts a few seconds (a worker whose share went away, a
    database restarting) then meets fewer of the task's tries."""
    return min(first_delay * 2 ** (tries - 1), MAX_RETRY_DELAY_SECS)


def retry_or_fail(model, pk, attempt, reason, *, max_tries, first_delay=0.0, **fields):
    """Put attempt `attempt` of a pending task back to `new`, or `failed` past `max_tries`.

    For the master node: the attempt failed for the platform's reasons (a
    worker lost, a deadline passed, a failure the worker calls retryable).
    Back in the queue, it is not claimed again before its `not_before`
    (retry_delay). Conditional on the attempt still being the current one, so
    a late or repeated call changes nothing; true when it changed the row. A
    task given up is logged as a warning once the transaction commits.
    """
    current = model.objects.filter(pk=pk, status=TaskStatus.PENDING, attempts=attempt)
    uncounted = current.values_list("uncounted_attempts", flat=True).first()
    if uncounted is None:
        return False
    status, failure_reason = retry_state(attempt, uncounted, reason, max_tries=max_tries)
    fields.update(status=status, failure_reason=failure_reason)
    if status == TaskStatus.NEW:
        fields["not_before"] = timezone.now() + datetime.timedelta(
            seconds=retry_delay(attempt - uncounted, first_delay))
    if current.update(**fields) != 1:
        return False
    if status == TaskStatus.FAILED:
        transaction.on_commit(functools.partial(
            logger.warning, "%s %d: %s", model._meta.verbose_name, pk, failure_reason))
    return True


# Rows per statement when creating many (within SQLite's limit on query parameters).
BULK_SIZE = 500


class Priority(models.IntegerChoices):
    """Who is waiting on a task: the dispatcher serves higher values first."""

    BACKGROUND = 0, "background"
    TOURNAMENT = 50, "tournament"
    PLAYER = 100, "player"


class ChampionQuerySet(models.QuerySet):
    def visible(self):
        """Champions not deleted by their authors."""
        return self.filter(deleted=False)

    def latest_ready(self, deadline=None):
        """Each author's latest ready champion not deleted, uploaded by `deadline` if given.

        What a player plays with: tournaments enter it by default, and the
        ladder schedules it alone (an older version stops playing ranked
        matches once a newer one compiles).
        """
        ready = self.visible().filter(status=self.model.Status.READY)
        if deadline is not None:
            ready = ready.filter(ts__lte=deadline)
        latest = ready.filter(author=models.OuterRef("author")).order_by("-ts", "-id")
        return ready.filter(pk=models.Subquery(latest.values("pk")[:1]))


class Champion(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "waiting for compilation"
        PENDING = "pending", "compiling"
        READY = "ready", "ready"
        # The champion's fault (its compilation failed): shown to its author.
        ERROR = "error", "compilation failed"
        # The platform's fault, after max_task_tries attempts: shown to staff.
        FAILED = "failed", "platform failure"

    name = models.CharField(max_length=100)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="champions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    language = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    deleted = models.BooleanField(default=False)
    # Put there by an organiser's tool (tools/run-local's sample champions),
    # not uploaded by its author: it does not count towards the author's
    # uploads_per_minute. A default in the database too, for rows written
    # with SQL (tools/bench-www's COPY).
    seeded = models.BooleanField(default=False, db_default=False)
    ts = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts that do not count towards the master's max_task_tries: put back
    # by a master restart, refused by a worker with no room, or made before a
    # staff requeue. Attempt numbers are never reused: each names its own
    # outputs, which a worker that outlived the master may still be writing.
    uncounted_attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=300, blank=True,
                              help_text="host:port of the worker of the latest attempt")
    failure_reason = models.TextField(blank=True)
    # A task given back after a platform failure is not claimed before then
    # (retry_or_fail); null when it may be claimed at once.
    not_before = models.DateTimeField(null=True, blank=True)
    # Its rating (docs/tournaments.md), written only by the master as it
    # applies results, and by `stechec-manage recompute_ratings`.
    rating_mu = models.FloatField(default=INITIAL_MU)
    rating_sigma = models.FloatField(default=INITIAL_SIGMA)
    # The conservative score shown on pages (mu - 3 sigma), kept for ordering.
    rating = models.FloatField(default=0.0)
    rated_games = models.PositiveIntegerField(default=0)
    rated_at = models.DateTimeField(null=True, blank=True,
                                    help_text="when its latest rated match was applied")

    objects = ChampionQuerySet.as_manager()

    # Statuses a recompilation may start from (not while the master holds it).
    FINISHED = (Status.READY, Status.ERROR, Status.FAILED)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "id"], name="champion_queue"),
            models.Index(fields=["author", "deleted", "-id"], name="champion_by_author"),
            models.Index(fields=["deleted", "-id"], name="champion_list"),
            models.Index(fields=["status", "-rating"], name="champion_by_rating"),
        ]

    def __str__(self):
        return f"{self.name} (#{self.id})"

    def directory(self, root, game):
        return paths.champion_dir(root, game, self.author.username, self.id)

    def outputs_directory(self, root, game):
        """Where its compilation log and build are: its newest published attempt's."""
        return paths.published(self.directory(root, game))

    @classmethod
    def queue_for_compilation(cls, **fields):
        """Create a `new` champion, inside the caller's transaction (its commit wakes the
        master: migration 0003)."""
        return cls.objects.create(status=cls.Status.NEW, **fields)

    @classmethod
    def requeue_for_compilation(cls, queryset):
        """Put finished champions back to `new`, with all their tries again; returns how
        many were requeued."""
        return queryset.filter(status__in=cls.FINISHED).update(
            status=cls.Status.NEW, failure_reason="", not_before=None,
            uncounted_attempts=models.F("attempts"))

    @property
    def in_progress(self):
        return self.status in (self.Status.NEW, self.Status.PENDING)

    def can_read_private(self, user):
        """Sources and compile log: for the author and staff only."""
        return user.is_staff or self.author_id == user.id

    def soft_delete(self):
        """Hide the champion; its matches and files stay for their history."""
        self.deleted = True
        self.save(update_fields=["deleted"])

    @classmethod
    def apply_compilation_results(cls, results, *, max_tries, first_delay=0.0):
        """Record workers' `compilation_result`s (docs/rpc.md) for the master node.

        `results` is a list of (champion_id, attempt, result). Each is applied
        only while its attempt is the champion's current pending one, so a
        stale, repeated or concurrent duplicate result changes nothing (of the
        same result listed twice, the first is applied). Returns one boolean
        per result: applied or not. Run it inside the caller's transaction.

        One conditional UPDATE ... RETURNING per outcome (status and language)
        serves the whole list, written out by hand: the ORM needs a locking
        read first, and building its statements cost the master more than the
        database took to run them.
        """
        outcomes = [False] * len(results)
        groups, first = {}, {}
        for i, (champion_id, attempt, result) in enumerate(results):
            if first.setdefault((champion_id, attempt), i) != i:
                continue
            if result["status"] == TaskStatus.FAILED:
                outcomes[i] = retry_or_fail(cls, champion_id, attempt, result["reason"],
                                            max_tries=max_tries, first_delay=first_delay)
            else:
                groups.setdefault((result["status"], result["language"]), []).append(i)
        table = connection.ops.quote_name(cls._meta.db_table)
        for (status, language), indexes in groups.items():
            pairs = [results[i][:2] for i in indexes]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET status = %s, language = %s, failure_reason = '' "
                    f"WHERE status = '{TaskStatus.PENDING}' AND (id, attempts) IN "
                    f"(VALUES {', '.join(['(%s, %s)'] * len(pairs))}) RETURNING id, attempts",
                    [status, language] + [value for pair in pairs for value in pair])
                applied = set(cursor.fetchall())
            for i, pair in zip(indexes, pairs, strict=True):
                outcomes[i] = pair in applied
            AppliedResult.record(AppliedResult.Kind.CHAMPION, sorted(applied), status)
        return outcomes

    @classmethod
    def result_applied(cls, champion_id, attempt, result, *, max_tries):
        """Whether this `compilation_result` is the one already applied: the champion is as
        applying it made it, and no attempt came since. The master then answers a worker
        that sends it again (its acknowledgement was lost) true, applying nothing."""
        row = cls.objects.filter(pk=champion_id, attempts=attempt).values_list(
            "status", "failure_reason", "language", "uncounted_attempts").first()
        if row is None:
            return False
        if result["status"] == TaskStatus.FAILED:
            return row[:2] == retry_state(attempt, row[3], result["reason"], max_tries=max_tries)
        return row[:3] == (result["status"], "", result["language"])


class Map(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="maps")
    name = models.CharField(max_length=100)
    official = models.BooleanField(default=False)
    contents = models.TextField()
    ts = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-official", "-id"]

    def __str__(self):
        return self.name


class Tournament(models.Model):
    class Format(models.TextChoices):
        ROUND_ROBIN = "round_robin", "round robin"
        SWISS = "swiss", "Swiss"
        SINGLE_ELIMINATION = "single_elimination", "single elimination"

    class Status(models.TextChoices):
        CREATED = "created", "created"
        RUNNING = "running", "running"
        DONE = "done", "done"

    name = models.CharField(max_length=100)
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.ROUND_ROBIN)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    ts = models.DateTimeField(auto_now_add=True)
    nb_players = models.PositiveIntegerField(default=2, help_text="players per match")
    rounds = models.PositiveIntegerField(default=0, help_text="Swiss: the number of rounds")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the next round does not start (a failed match to rerun), for the page.
    waiting_reason = models.TextField(blank=True)
    champions = models.ManyToManyField(Champion, through="TournamentPlayer",
                                       related_name="tournaments")
    maps = models.ManyToManyField(Map, through="TournamentMap", related_name="tournaments")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.name


class TournamentPlayer(models.Model):
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE,
                                   related_name="players")
    champion = models.ForeignKey(Champion, on_delete=models.CASCADE,
                                 related_name="tournament_players")
    # Tournament points (a win 2, a draw 1 each), added by the master in the
    # transaction that applies each match's result.
    score = models.IntegerField(default=0)
    rank = models.PositiveIntegerField(null=True, blank=True)
    # Single elimination: the champion's seed (1 the best), fixed at launch.
    seed = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "-score"]
        constraints = [models.UniqueConstraint(fields=["tournament", "champion"],
                                               name="one_entry_per_champion")]


class TournamentMap(models.Model):
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE)
    map = models.ForeignKey(Map, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tournament", "map"],
                                               name="one_entry_per_map")]


class Match(models.Model):
    class Status(models.TextChoices):
        # Rows are created `creating` and flipped to `new` in the same
        # transaction as their players: the master never sees half a match.
        CREATING = "creating", "being created"
        NEW = "new", "waiting"
        PENDING = "pending", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="matches")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATING)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.PLAYER)
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="matches")
    map = models.ForeignKey(Map, on_delete=models.PROTECT, null=True, blank=True,
                            related_name="matches")
    options = models.TextField(blank=True)
    ts = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    uncounted_attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=300, blank=True,
                              help_text="host:port of the worker of the latest attempt")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    champions = models.ManyToManyField(Champion, through="MatchPlayer", related_name="matches")
    # A tournament's round (0 the first), for Swiss and single elimination.
    round = models.PositiveIntegerField(null=True, blank=True)
    # Started by the master's ladder (docs/tournaments.md).
    ladder = models.BooleanField(default=False)
    # The order in which the master applied its rating (each application
    # takes the next number): `stechec-manage recompute_ratings` replays
    # matches in this order.
    rated_seq = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "matches"
        indexes = [
            models.Index(fields=["status", "-priority", "id"], name="match_queue"),
            models.Index(fields=["author", "-id"], name="match_by_author"),
            models.Index(fields=["tournament", "status"], name="match_by_tournament"),
            models.Index(fields=["ladder", "status"], name="match_by_ladder"),
        ]

    IN_FLIGHT = (Status.CREATING, Status.NEW, Status.PENDING)
    FINISHED = (Status.DONE, Status.FAILED)

    def __str__(self):
        return f"match #{self.id}"

    @property
    def in_progress(self):
        return self.status in self.IN_FLIGHT

    def can_read_outputs(self, user):
        """Server log, dump and replay: for staff, the match's author and its players' authors.

        Reads `players` (prefetch them with their champions for a list).
        """
        if user.is_staff or (self.author_id is not None and self.author_id == user.id):
            return True
        return any(p.champion.author_id == user.id for p in self.players.all())

    @classmethod
    def rerun(cls, queryset):
        """Put finished matches back to `new` with their results cleared and all their
        tries again; returns how many.

        A done tournament match gives back its points (the new result brings
        its own). Its rating effect stays: the master rates it again on its
        new result, and `stechec-manage recompute_ratings` counts it once.
        """
        from stechec.www.contest import tournaments

        with transaction.atomic():
            ids = list(queryset.filter(status__in=cls.FINISHED).values_list("id", flat=True))
            tournaments.remove_points(cls.objects.filter(id__in=ids))
            MatchPlayer.objects.filter(match_id__in=ids).update(
                score=None, nb_timeout=0, has_timeout=False, exit_status=None)
            cls.objects.filter(id__in=ids).update(
                status=cls.Status.NEW, failure_reason="", started_at=None, finished_at=None,
                not_before=None, uncounted_attempts=models.F("attempts"))
        return len(ids)

    @classmethod
    def launch(cls, champions, *, author=None, map=None, priority=Priority.PLAYER,
               tournament=None, options=""):
        """Create a match and its players atomically (the commit wakes the master).

        Champions sit in the given order (the seat order).
        """
        with transaction.atomic():
            match = cls.objects.create(author=author, map=map, priority=priority,
                                       tournament=tournament, options=options,
                                       status=cls.Status.CREATING)
            MatchPlayer.objects.bulk_create(
                MatchPlayer(match=match, champion=champion) for champion in champions)
            cls.objects.filter(pk=match.pk).update(status=cls.Status.NEW)
            match.status = cls.Status.NEW
        return match

    @classmethod
    def launch_many(cls, pairings, **fields):
        """Create many matches at once, as `launch` does one; returns them.

        `pairings` hold each match's champion ids in seat order and its map
        id (pairing.Pairing); `fields` are the matches' other fields.
        """
        with transaction.atomic():
            matches = cls.objects.bulk_create(
                [cls(status=cls.Status.CREATING, map_id=p.map, **fields) for p in pairings],
                batch_size=BULK_SIZE)
            MatchPlayer.objects.bulk_create(
                [MatchPlayer(match=match, champion_id=champion)
                 for match, p in zip(matches, pairings, strict=True)
                 for champion in p.champions], batch_size=BULK_SIZE)
            ids = [match.id for match in matches]
            for start in range(0, len(ids), BULK_SIZE):
                cls.objects.filter(pk__in=ids[start:start + BULK_SIZE])\
                    .update(status=cls.Status.NEW)
            for match in matches:
                match.status = cls.Status.NEW
        return matches

    def directory(self, root, game):
        return paths.match_dir(root, game, self.id)

    def outputs_directory(self, root, game):
        """Where its logs, dump and replay are: its newest published attempt's, which is the
        applied one once the match is finished."""
        return paths.published(self.directory(root, game))

    @classmethod
    def apply_result(cls, match_id, attempt, result, *, max_tries, first_delay=0.0):
        """Record a worker's `match_done` (docs/rpc.md) for the master node.

        Status and scores change together, and only while `attempt` is the
        match's current pending attempt: a stale, repeated or concurrent
        duplicate result changes nothing. Returns true when applied; raises
        ValueError when the players are not the match's. A done match also
        moves its champions' ratings and, in a tournament, adds their points
        (docs/tournaments.md). Run it inside the caller's transaction.
        """
        from stechec.www.contest import champion_ratings, tournaments

        now = timezone.now()
        champion_ratings.lock()
        if result["status"] == TaskStatus.FAILED and result["retryable"]:
            return retry_or_fail(cls, match_id, attempt, result["reason"], max_tries=max_tries,
                                 first_delay=first_delay)
        reported = {player["matchplayer_id"]: player for player in result["players"]}
        players = list(MatchPlayer.objects.filter(match_id=match_id))
        current = cls.objects.filter(pk=match_id, status=cls.Status.PENDING, attempts=attempt)
        done = result["status"] == TaskStatus.DONE
        if (set(reported) != {p.id for p in players} if done
                else not set(reported) <= {p.id for p in players}):
            if not current.exists():
                return False
            raise ValueError(f"players {sorted(reported)} are not the match's "
                             f"{sorted(p.id for p in players)}")
        fields = ({"status": cls.Status.DONE, "failure_reason": ""} if done
                  else {"status": cls.Status.FAILED, "failure_reason": result["reason"]})
        if current.update(finished_at=now, **fields) != 1:
            return False
        AppliedResult.record(AppliedResult.Kind.MATCH, [(match_id, attempt)], fields["status"])
        changed = [p for p in players if p.id in reported]
        for player in changed:
            outcome = reported[player.id]
            player.score = outcome["score"]
            player.nb_timeout = outcome["nb_timeout"]
            player.has_timeout = outcome["nb_timeout"] > 0
            player.exit_status = outcome["exit_status"]
        MatchPlayer.objects.bulk_update(changed, ["score", "nb_timeout", "has_timeout",
                                                  "exit_status"])
        if done:
            champion_ratings.rate_match(match_id, players)
            tournament_id = cls.objects.filter(pk=match_id).values_list("tournament_id",
                                                                        flat=True).get()
            if tournament_id is not None:
                tournaments.add_points(tournament_id, players)
        return True

    @classmethod
    def result_applied(cls, match_id, attempt, result, *, max_tries):
        """Whether this `match_done` is the one already applied: the match (status, reason,
        every reported player's outcome) is as applying it made it, and no attempt came
        since. The master then answers a worker that sends it again true, applying nothing."""
        row = cls.objects.filter(pk=match_id, attempts=attempt).values_list(
            "status", "failure_reason", "uncounted_attempts").first()
        if row is None:
            return False
        retried = result["status"] == TaskStatus.FAILED and result["retryable"]
        if retried:
            expected = retry_state(attempt, row[2], result["reason"], max_tries=max_tries)
        elif result["status"] == TaskStatus.DONE:
            expected = (cls.Status.DONE, "")
        else:
            expected = (cls.Status.FAILED, result["reason"])
        if row[:2] != expected:
            return False
        if retried:
            # Putting a match back in the queue writes no player's outcome.
            return True
        stored = {pk: outcome for pk, *outcome in MatchPlayer.objects.filter(
            match_id=match_id).values_list("id", "score", "nb_timeout", "exit_status")}
        return all(stored.get(p["matchplayer_id"]) == [p["score"], p["nb_timeout"],
                                                         p["exit_status"]]
                   for p in result["players"])


class MatchPlayer(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="players")
    champion = models.ForeignKey(Champion, on_delete=models.CASCADE,
                                 related_name="match_players")
    score = models.IntegerField(null=True, blank=True)
    nb_timeout = models.PositiveIntegerField(default=0)
    has_timeout = models.BooleanField(default=False)
    exit_status = models.IntegerField(null=True, blank=True)
    # The champion's rating right after this match was rated (its history).
    rating_mu = models.FloatField(null=True, blank=True)
    rating_sigma = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["champion", "match"], name="matchplayer_by_champion")]

    def __str__(self):
        return f"{self.champion} in {self.match}"

    def log_name(self):
        return paths.player_log_name(self.id, self.champion_id)

    def can_read_log(self, user):
        """A player's log: for its champion's author and staff only."""
        return user.is_staff or self.champion.author_id == user.id


class AppliedResult(models.Model):
    """One row per final result the master applied (a champion ready or error, a match done
    or failed), written in the transaction that applies it.

    The evidence that no result is applied twice, which the chaos campaign
    checks (devtools/invariants.py): no constraint stops a second row, so a
    doubled application shows as one. A result given back to the queue is no
    final result and writes none.
    """

    class Kind(models.TextChoices):
        CHAMPION = "champion", "champion"
        MATCH = "match", "match"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    task_id = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField()
    status = models.CharField(max_length=10)
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "task_id"], name="appliedresult_by_task")]

    def __str__(self):
        return f"{self.kind} {self.task_id} attempt {self.attempt}: {self.status}"

    @classmethod
    def record(cls, kind, tasks, status):
        """Record that `status` was applied to each (task id, attempt) of `tasks`."""
        cls.objects.bulk_create([cls(kind=kind, task_id=task_id, attempt=attempt, status=status)
                                 for task_id, attempt in tasks])
