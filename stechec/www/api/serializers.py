"""What the API shows of each thing (read-only: writes go through the site's forms)."""

from rest_framework import serializers

from stechec.common import verdicts
from stechec.contest.models import (
    ApiToken,
    Champion,
    Map,
    Match,
    MatchPlayer,
    Tournament,
    Webhook,
    WebhookDelivery,
    shown_name,
)


class ChampionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Champion
        fields = ["id", "name", "author", "author_name", "status", "language", "comment",
                  "ts", "rating", "rated_games"]

    def get_author_name(self, champion) -> str:
        return shown_name(champion.author)


def _verdict(verdict, shown):
    """A verdict (stechec.common.verdicts) as the site's pages show it, or None where they
    do not."""
    return verdict if shown and verdict else None


def _verdict_words(verdict, shown):
    return verdicts.describe(verdict) if shown and verdict else None


class ChampionDetailSerializer(ChampionSerializer):
    """The context's `private` (Champion.can_read_private, once compiled) shows the
    compilation's log and verdict, as the champion's page does."""

    compile_log = serializers.SerializerMethodField(
        help_text="The compilation log's end, for its author and staff once compiled.")
    compile_verdict = serializers.SerializerMethodField(
        help_text="How the build ended (ended, exit_status, signal, limit, cpu_ms...), for "
                  "its author and staff once compiled.")
    compile_verdict_words = serializers.SerializerMethodField(
        help_text="The compile verdict in words, as the champion's page says it.")

    class Meta(ChampionSerializer.Meta):
        fields = ChampionSerializer.Meta.fields + ["compile_log", "compile_verdict",
                                                   "compile_verdict_words"]

    def get_compile_log(self, champion) -> str | None:
        return self.context.get("compile_log")

    def get_compile_verdict(self, champion) -> dict | None:
        return _verdict(champion.compile_verdict, self.context.get("private"))

    def get_compile_verdict_words(self, champion) -> str | None:
        return _verdict_words(champion.compile_verdict, self.context.get("private"))


class UploadSerializer(serializers.Serializer):
    """For the schema: what an upload sends (ChampionUploadForm checks it)."""

    name = serializers.CharField(max_length=100)
    comment = serializers.CharField(required=False, allow_blank=True)
    sources = serializers.FileField(help_text="A gzip-compressed tar archive of the sources.")


class MatchPlayerSerializer(serializers.ModelSerializer):
    champion_name = serializers.CharField(source="champion.name")
    author = serializers.CharField(source="champion.author.username")
    log_readable = serializers.SerializerMethodField()
    verdict = serializers.SerializerMethodField(
        help_text="How its client and champion ended (ended, exit_status, signal, limit, "
                  "cpu_ms...), where its log is readable: its champion's author and staff.")
    verdict_words = serializers.SerializerMethodField(
        help_text="The verdict in words, as the match's page says it.")

    class Meta:
        model = MatchPlayer
        fields = ["id", "champion", "champion_name", "author", "score", "log_readable",
                  "verdict", "verdict_words"]

    def get_log_readable(self, player) -> bool:
        return player.can_read_log(self.context["request"].user)

    def get_verdict(self, player) -> dict | None:
        return _verdict(player.verdict, self.get_log_readable(player))

    def get_verdict_words(self, player) -> str | None:
        return _verdict_words(player.verdict, self.get_log_readable(player))


class MatchSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", allow_null=True)
    players = MatchPlayerSerializer(many=True)

    class Meta:
        model = Match
        fields = ["id", "status", "author", "map", "tournament", "round", "ladder", "ts",
                  "started_at", "finished_at", "players"]


class MatchRowPlayerSerializer(serializers.Serializer):
    champion = serializers.IntegerField(source="champion_id")
    champion_name = serializers.CharField()
    author = serializers.CharField(source="author_name")
    score = serializers.IntegerField(allow_null=True)


class MatchRowSerializer(serializers.ModelSerializer):
    """A match in a list: its players as the site's list reads them (match_lists
    .with_players); its detail has more of them."""

    author = serializers.CharField(source="author.username", allow_null=True)
    players = MatchRowPlayerSerializer(source="player_rows", many=True)

    class Meta:
        model = Match
        fields = ["id", "status", "author", "map", "tournament", "round", "ladder", "ts",
                  "started_at", "finished_at", "players"]


class LaunchSerializer(serializers.Serializer):
    """For the schema: a match to launch, its champions in seat order."""

    champions = serializers.ListField(
        child=serializers.CharField(),
        help_text="One a seat: a champion's number, a player's name (their latest ready "
                  "champion) or player/champion.")
    map = serializers.IntegerField(required=False, allow_null=True)


class MapSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Map
        fields = ["id", "name", "author", "official", "ts", "contents"]


class TournamentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tournament
        fields = ["id", "name", "format", "status", "ts"]


class TournamentCreateSerializer(serializers.Serializer):
    """For the schema: a tournament to create (the site's TournamentForm checks it)."""

    name = serializers.CharField(max_length=100)
    format = serializers.ChoiceField(choices=Tournament.Format.choices)
    rounds = serializers.IntegerField(required=False, help_text="Swiss only.")
    champions = serializers.ListField(
        child=serializers.IntegerField(), required=False,
        help_text="Champion numbers; none: each player's latest ready champion.")
    deadline = serializers.DateTimeField(required=False)
    include_staff = serializers.BooleanField(required=False)
    maps = serializers.ListField(child=serializers.IntegerField(), required=False)
    launch = serializers.BooleanField(default=True)


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    champion = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    score = serializers.IntegerField()
    played = serializers.IntegerField()
    wins = serializers.IntegerField()
    draws = serializers.IntegerField()
    losses = serializers.IntegerField()


class LeaderboardRowSerializer(serializers.Serializer):
    champion = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    author = serializers.CharField(source="author__username")
    rating = serializers.FloatField()
    rating_mu = serializers.FloatField()
    rating_sigma = serializers.FloatField()
    rated_games = serializers.IntegerField()


class TokenRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiToken.Scope.choices))


class NewTokenSerializer(TokenRequestSerializer):
    token = serializers.CharField(help_text="Shown this once: only its hash is kept.")


class MatrixRowSerializer(serializers.Serializer):
    champion = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.ListField(child=serializers.IntegerField(allow_null=True))


class RerunSerializer(serializers.Serializer):
    queued = serializers.IntegerField()


class RatingPointSerializer(serializers.Serializer):
    match = serializers.IntegerField()
    mu = serializers.FloatField()
    sigma = serializers.FloatField()
    rating = serializers.FloatField(help_text="The displayed rating (mu - 3 sigma).")


class WebhookRequestSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=Webhook.Event.choices))
    discord = serializers.BooleanField(default=False)
    contest_wide = serializers.BooleanField(default=False, help_text="organisers only")


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.SerializerMethodField()

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "discord", "contest_wide", "active", "created"]

    def get_events(self, hook) -> list[str]:
        return sorted(hook.event_set)


class NewWebhookSerializer(WebhookSerializer):
    secret = serializers.SerializerMethodField(
        help_text="Signs every delivery; shown this once.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]

    def get_secret(self, hook) -> str:
        return hook.secret


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempts", "last_http_status", "last_error",
                  "created", "finished_at", "payload"]
