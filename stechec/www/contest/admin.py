from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stechec.contest import transitions
from stechec.contest.models import (
    Champion,
    Map,
    Match,
    MatchPlayer,
    OperatorAction,
    PlayerProfile,
    Tournament,
    TournamentMap,
    TournamentPlayer,
    Webhook,
    WebhookDelivery,
)

# Ratings are written only by the master as it applies results, and by
# `stechec-manage recompute_ratings`: an edit by hand would leave them out of
# step with the match history they are replayed from.
ROUNDED_RATINGS = ["rating", "rating_mu", "rating_sigma"]


def rounded(field):
    """An admin column or read-only field showing the float `field` to two decimals: 17
    digits of a rating mean nothing to a reader."""
    @admin.display(description=field.replace("_", " "), ordering=field)
    def show(obj):
        value = getattr(obj, field)
        return "–" if value is None else f"{value:.2f}"
    show.__name__ = field
    return show


RATING_FIELDS = [rounded(field) for field in ROUNDED_RATINGS] + ["rated_games", "rated_at"]
# The master's count of attempts that are not tries, the time before which
# it does not retry a task, and its failure reason's template and parameters
# (the reason's text stays editable); the recompile and rerun actions reset them.
# Shown, not edited.
TASK_FIELDS = ["uncounted_attempts", "not_before", "failure_detail"]


@admin.register(Champion)
class ChampionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "author", "status", "language", rounded("rating"),
                    "rated_games", "attempts", "worker", "deleted", "seeded", "ts"]
    list_filter = ["status", "deleted", "seeded", "language"]
    readonly_fields = RATING_FIELDS + TASK_FIELDS
    exclude = ROUNDED_RATINGS
    search_fields = ["name", "author__username"]
    list_select_related = ["author"]
    raw_id_fields = ["author"]
    actions = ["recompile"]
    show_full_result_count = False

    @admin.action(description=gettext_lazy("Recompile the selected champions"))
    def recompile(self, request, queryset):
        count = transitions.requeue_champions(queryset)
        self.message_user(request, _("%(count)s champion(s) queued for compilation (champions "
                                     "still waiting or compiling were left alone).")
                          % {"count": count}, messages.SUCCESS)


MATCH_PLAYER_RATINGS = [rounded("rating_mu"), rounded("rating_sigma")]


class MatchPlayerInline(admin.TabularInline):
    model = MatchPlayer
    raw_id_fields = ["champion"]
    readonly_fields = MATCH_PLAYER_RATINGS
    exclude = ["rating_mu", "rating_sigma"]
    extra = 0


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "priority", "author", "tournament", "round", "ladder", "map",
                    "attempts", "worker", "fault", "rated_seq", "ts", "finished_at"]
    list_filter = ["status", "fault", "priority", "ladder",
                   ("tournament", admin.EmptyFieldListFilter)]
    readonly_fields = ["rated_seq", "fault"] + TASK_FIELDS
    search_fields = ["id", "author__username"]
    list_select_related = ["author", "tournament", "map"]
    raw_id_fields = ["author", "tournament", "map"]
    inlines = [MatchPlayerInline]
    actions = ["rerun"]
    show_full_result_count = False

    @admin.action(description=gettext_lazy("Rerun the selected matches"))
    def rerun(self, request, queryset):
        count = transitions.rerun_matches(queryset)
        self.message_user(request, _("%(count)s match(es) queued again (matches still waiting "
                                     "or running were left alone).") % {"count": count},
                          messages.SUCCESS)


@admin.register(MatchPlayer)
class MatchPlayerAdmin(admin.ModelAdmin):
    list_display = ["id", "match", "champion", "score", "nb_timeout", "has_timeout",
                    "exit_status", *MATCH_PLAYER_RATINGS]
    readonly_fields = MATCH_PLAYER_RATINGS
    exclude = ["rating_mu", "rating_sigma"]
    list_select_related = ["match", "champion"]
    raw_id_fields = ["match", "champion"]
    show_full_result_count = False


@admin.register(Map)
class MapAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "author", "official", "ts"]
    list_filter = ["official"]
    search_fields = ["name", "author__username"]
    list_select_related = ["author"]
    raw_id_fields = ["author"]
    actions = ["mark_official", "mark_unofficial"]

    @admin.action(description=gettext_lazy("Mark the selected maps official"))
    def mark_official(self, request, queryset):
        self.message_user(request, _("%(count)s map(s) marked official.")
                          % {"count": queryset.update(official=True)})

    @admin.action(description=gettext_lazy("Mark the selected maps not official"))
    def mark_unofficial(self, request, queryset):
        self.message_user(request, _("%(count)s map(s) no longer official.")
                          % {"count": queryset.update(official=False)})


class TournamentPlayerInline(admin.TabularInline):
    model = TournamentPlayer
    fields = ["champion", "score", "rank", "seed"]
    raw_id_fields = ["champion"]
    # Points and ranks come from the results, seeds from the ratings at launch.
    readonly_fields = ["score", "rank", "seed"]
    extra = 0


class TournamentMapInline(admin.TabularInline):
    model = TournamentMap
    raw_id_fields = ["map"]
    extra = 0


@admin.register(Tournament)
class TournamentAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "format", "status", "nb_players", "rounds", "started_at",
                    "finished_at", "waiting"]
    list_filter = ["format", "status"]
    search_fields = ["name"]
    # Set by launching and by the master's tournament runner.
    readonly_fields = ["started_at", "finished_at", "waiting_reason", "waiting_detail"]
    inlines = [TournamentPlayerInline, TournamentMapInline]

    @admin.display(boolean=True, description=gettext_lazy("waiting"))
    def waiting(self, tournament):
        """Whether the next round waits on something (a failed match to rerun, say)."""
        return bool(tournament.waiting_reason)


@admin.register(PlayerProfile)
class PlayerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name"]
    search_fields = ["user__username", "display_name"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Players' webhooks (docs/webhooks.md): staff switch one off (`active`); its secret
    is its owner's, never shown."""

    list_display = ["url", "owner", "events", "discord", "contest_wide", "active", "created"]
    list_filter = ["active", "contest_wide", "discord"]
    search_fields = ["url", "owner__username"]
    exclude = ["secret"]
    readonly_fields = ["owner", "created"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """What the sender did with each event: read only, the sender alone writes them."""

    list_display = ["id", "event", "webhook", "status", "attempts", "last_http_status",
                    "created", "finished_at"]
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    """The record of staff's operations (the operations page and `stechec-manage` write
    it): read only, since it is also the state the master obeys."""

    list_display = ["id", "ts", "actor", "action", "target", "outcome"]
    list_filter = ["action"]
    search_fields = ["actor", "target", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
