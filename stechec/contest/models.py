"""The contest's data: one source of truth for the website and the master node.

The database is the only task queue: the site commits `new` champions and
matches, the master moves them to `pending` (numbering each attempt) and then
to a final status, through `transitions.py` alone. See docs/architecture.md
("Task life cycle") and docs/master-node.md ("Task life cycle, as the master
applies it").

The models import no other module of the contest: the rules and services
(transitions, tournaments, ratings, the ladder) import them, never the
other way round.
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stechec.common import paths

# OpenSkill's initial rating, which ratings.INITIAL_MU and INITIAL_SIGMA
# are (tests/tournaments/test_ratings.py checks they agree): written here as
# numbers, the models importing no rule module.
INITIAL_RATING_MU = 25.0
INITIAL_RATING_SIGMA = 25.0 / 3

# Rows per statement when creating many (within SQLite's limit on query parameters).
BULK_SIZE = 500


class Priority(models.IntegerChoices):
    """Who is waiting on a task: the dispatcher serves higher values first."""

    BACKGROUND = 0, _("background")
    TOURNAMENT = 50, _("tournament")
    PLAYER = 100, _("player")


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
        NEW = "new", _("waiting for compilation")
        PENDING = "pending", _("compiling")
        READY = "ready", _("ready")
        # The champion's fault (its compilation failed): shown to its author.
        ERROR = "error", _("compilation failed")
        # The platform's fault, after max_task_tries attempts: shown to staff.
        FAILED = "failed", _("platform failure")

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
    # The reason's template and parameters, which the site shows in the reader's language
    # (stechec.contest.reasons); null for no reason, a worker's own sentence, or a row
    # from before details.
    failure_detail = models.JSONField(null=True, blank=True)
    # A task given back after a platform failure is not claimed before then
    # (transitions.retry_or_fail); null when it may be claimed at once.
    not_before = models.DateTimeField(null=True, blank=True)
    # Its rating (docs/tournaments.md), written only by the master as it
    # applies results, and by `stechec-manage recompute_ratings`.
    rating_mu = models.FloatField(default=INITIAL_RATING_MU)
    rating_sigma = models.FloatField(default=INITIAL_RATING_SIGMA)
    # The conservative score shown on pages (mu - 3 sigma), kept for ordering.
    rating = models.FloatField(default=0.0)
    rated_games = models.PositiveIntegerField(default=0)
    rated_at = models.DateTimeField(null=True, blank=True,
                                    help_text="when its latest rated match was applied")
    # How its latest applied build ended (stechec.common.verdicts); null when unknown.
    compile_verdict = models.JSONField(null=True, blank=True)

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
        ROUND_ROBIN = "round_robin", _("round robin")
        SWISS = "swiss", _("Swiss")
        SINGLE_ELIMINATION = "single_elimination", _("single elimination")

    class Status(models.TextChoices):
        CREATED = "created", _("created")
        RUNNING = "running", _("running")
        DONE = "done", _("done")

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
    # Its template and parameters, as Champion.failure_detail.
    waiting_detail = models.JSONField(null=True, blank=True)
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
        CREATING = "creating", _("being created")
        NEW = "new", _("waiting")
        PENDING = "pending", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

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
    # As Champion.failure_detail.
    failure_detail = models.JSONField(null=True, blank=True)
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
    # How its game server ended in the applied result (stechec.common.verdicts).
    server_verdict = models.JSONField(null=True, blank=True)

    class Fault(models.TextChoices):
        # Set with a finished match's status (stechec.contest.transitions): a
        # done match counts (ratings, points, wins), a failed one never does.
        NONE = "", _("none")
        CHAMPION = "champion", _("a champion's")
        PLATFORM = "platform", _("the platform's")
        # Staff cancelled it (stechec.contest.operations): nobody's failure.
        CANCELLED = "cancelled", _("cancelled by staff")

    fault = models.CharField(max_length=10, choices=Fault.choices, default=Fault.NONE,
                             blank=True)

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


class MatchPlayer(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="players")
    champion = models.ForeignKey(Champion, on_delete=models.CASCADE,
                                 related_name="match_players")
    score = models.IntegerField(null=True, blank=True)
    nb_timeout = models.PositiveIntegerField(default=0)
    has_timeout = models.BooleanField(default=False)
    exit_status = models.IntegerField(null=True, blank=True)
    # How its client (and the champion it ran) ended (stechec.common.verdicts).
    verdict = models.JSONField(null=True, blank=True)
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
    final result and writes none. The master writes the rows in plain SQL
    (stechec.contest.transitions.record_applied).
    """

    class Kind(models.TextChoices):
        CHAMPION = "champion", _("champion")
        MATCH = "match", _("match")

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


class PlayerProfile(models.Model):
    """What a player shows of themselves besides their user name (issue #18: a display
    name); the account itself is Django's user. A user without a profile shows the name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    display_name = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"{self.user} ({self.display_name})"


class ApiToken(models.Model):
    """A player's personal token for the API (docs/api.md: how the site makes and checks them).

    Only its SHA-256 is kept: the token itself is shown once, when created. A
    token is random (256 bits), so a plain hash cannot be reversed by guessing.
    """

    class Scope(models.TextChoices):
        READ = "read", "read"
        SUBMIT = "submit", "upload champions and launch matches"
        STAFF = "staff", "organisers' actions"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    # The token's first characters, so that its owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    # Space-separated Scope values.
    scopes = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @property
    def scope_set(self):
        return frozenset(self.scopes.split())


class OperatorAction(models.Model):
    """What staff did to the cluster, by whom and when (docs/master-node.md, "Operations").

    The rows are the record and the state at once: dispatching is paused when
    the latest pause or resume is a pause, and a worker drained when its
    latest drain or undrain is a drain, so the state outlives any restart.
    Written by stechec.contest.operations alone; its commit wakes the master
    (migration 0013 on PostgreSQL, a poll on SQLite).
    """

    class Action(models.TextChoices):
        PAUSE = "pause", _("pause dispatching")
        RESUME = "resume", _("resume dispatching")
        DRAIN = "drain", _("drain a worker")
        UNDRAIN = "undrain", _("undrain a worker")
        REQUEUE_MATCHES = "requeue_matches", _("requeue failed matches")
        REQUEUE_CHAMPIONS = "requeue_champions", _("requeue failed compilations")
        CANCEL = "cancel", _("cancel a match")

    action = models.CharField(max_length=20, choices=Action.choices)
    # A staff user name on the site; on `stechec-manage`, whom --as names.
    actor = models.CharField(max_length=150)
    ts = models.DateTimeField(default=timezone.now)
    # A worker's host:port (drain, undrain), a match id (cancel).
    target = models.CharField(max_length=300, blank=True)
    # A requeue's filter, as given.
    filter = models.JSONField(null=True, blank=True)
    # What came of it ("3 matches requeued", a cancelled match's reason).
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.target}".strip()


def shown_name_of(path):
    """shown_name() in a query, for the user at `path` ("champion__author")."""
    return Coalesce(NullIf(F(f"{path}__profile__display_name"), Value("")),
                    F(f"{path}__username"))


def shown_name(user):
    """The name pages show for `user`: their display name, else their user name."""
    try:
        return user.profile.display_name or user.username
    except PlayerProfile.DoesNotExist:
        return user.username


class SignInFailure(models.Model):
    """A failed password check for a user name, kept while it counts against the limit
    on failed sign-ins (website.sign_in_failures in website.sign_in_window_minutes;
    stechec/www/contest/limits.py). The user name is lowercased and need not exist."""

    username = models.CharField(max_length=150, db_index=True)
    ts = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.username} at {self.ts}"


class PasswordResetRequest(models.Model):
    """A password reset mail asked for an address, kept for an hour: the limit on them
    (website.password_resets_per_hour; stechec/www/contest/limits.py) keeps the reset page
    from flooding a mailbox. The address is lowercased and need not be anyone's."""

    email = models.CharField(max_length=254, db_index=True)
    ts = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.email} at {self.ts}"


class Webhook(models.Model):
    """A URL a player has events POSTed to, signed with its secret (docs/webhooks.md).

    A player's hook hears of their own champions, the matches they launched
    or play in, and the tournaments their champions entered; an organiser's
    contest-wide hook hears of everyone's. The secret is kept as it is (it
    signs every delivery) and shown to its owner once, when created.
    """

    class Event(models.TextChoices):
        CHAMPION_COMPILED = "champion.compiled", _("a champion's compilation ended")
        MATCH_FINISHED = "match.finished", _("a match finished")
        TOURNAMENT_FINISHED = "tournament.finished", _("a tournament finished")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="webhooks")
    # Checked by the site (http or https, a host): not a URLField, whose rules differ.
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=100)
    # Space-separated Event values.
    events = models.CharField(max_length=100)
    # The body is Discord's {"content": text} instead of the event's JSON.
    discord = models.BooleanField(default=False)
    # Every player's events, for organisers only.
    contest_wide = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.url} ({self.owner})"

    @property
    def event_set(self):
        return frozenset(self.events.split())


class WebhookDelivery(models.Model):
    """One event to POST to one webhook, queued in the transaction that made the event true
    (stechec.contest.webhook_events) and sent by `stechec-manage send_webhooks`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        # Given up after the sender's give-up time.
        FAILED = "failed", _("failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Not sent before then: the next retry, or the end of a sender's claim on it.
    next_try_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_try_at"], name="webhookdelivery_due"),
            models.Index(fields=["webhook", "-id"], name="webhookdelivery_by_hook"),
        ]

    def __str__(self):
        return f"{self.event} to {self.webhook_id}: {self.status}"
