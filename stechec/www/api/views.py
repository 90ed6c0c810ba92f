"""The API's endpoints. Each applies the rules through the functions the site's pages
call (stechec.www.contest.rules, uploads, the forms' checks), and answers their refusals
as JSON: 400 with the form's errors, 403, 404, 429 with Retry-After."""

import logging

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from stechec.common import paths
from stechec.contest import ratings, tournaments
from stechec.contest.models import ApiToken, Champion, Map, Match, Tournament
from stechec.www.api import serializers
from stechec.www.api import tokens as api_tokens
from stechec.www.contest import cluster, conf, files, limits, rules, webhooks
from stechec.www.contest.forms import ChampionUploadForm, MatchForm, TournamentForm
from stechec.www.contest.match_lists import listed_matches, with_champion, with_players
from stechec.www.contest.public import PUBLIC_MATCHES, is_public_match
from stechec.www.contest.tournament_reports import Report
from stechec.www.contest.uploads import storage_failure, store_champion

logger = logging.getLogger(__name__)


class RateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "limit_reached"


class Unavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


def _refused_by_limit(error):
    """A LimitReached as a 429 whose Retry-After says when to try again."""
    response = Response({"detail": str(error)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def _form_refused(form):
    raise ValidationError({"errors": {field: [str(e) for e in errors]
                                      for field, errors in form.errors.items()}})


def _flag(request, name):
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


def _positive_int(request, name):
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdecimal() or not 0 < int(value) < 2**63:
        raise ValidationError({name: f"{value!r} is not a number of one."})
    return int(value)


class ChampionList(generics.ListAPIView):
    serializer_class = serializers.ChampionSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[
        OpenApiParameter("mine", bool, description="Only the user's champions."),
        OpenApiParameter("author", str, description="Only this player's champions."),
        OpenApiParameter("status", str, enum=Champion.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        champions = Champion.objects.visible().select_related("author__profile")
        request = self.request
        if _flag(request, "mine"):
            champions = champions.filter(author=request.user)
        if request.query_params.get("author"):
            champions = champions.filter(author__username=request.query_params["author"])
        if request.query_params.get("status"):
            champions = champions.filter(status=request.query_params["status"])
        return champions

    @extend_schema(request={"multipart/form-data": serializers.UploadSerializer},
                   responses={201: serializers.ChampionDetailSerializer})
    def post(self, request):
        """Upload a champion: the archive gets the site's checks, then waits for compilation."""
        form = ChampionUploadForm(request.data, request.FILES)
        if not form.is_valid():
            _form_refused(form)
        data = form.cleaned_data
        try:
            champion = store_champion(request.user, data["name"], data["comment"],
                                      data["sources"])
        except limits.LimitReached as e:
            return _refused_by_limit(e)
        except OSError as e:
            logger.error("API upload by %s: cannot store the archive: %s",
                         request.user.username, storage_failure(e), exc_info=True)
            raise Unavailable("The site could not store the archive (nothing was kept); the "
                              "organisers can see why in the site's log.") from None
        return Response(serializers.ChampionDetailSerializer(champion).data,
                        status=status.HTTP_201_CREATED)


def _champion_outputs(champion):
    root, game = conf.shared_root()
    return champion.outputs_directory(root, game)


class ChampionDetail(APIView):
    @extend_schema(responses=serializers.ChampionDetailSerializer)
    def get(self, request, pk):
        """A champion, with its compilation log's end and verdict for its author and staff."""
        champion = rules.champion(request.user, pk)
        log = None
        private = champion.can_read_private(request.user) and not champion.in_progress
        if private:
            data = files.read_tail(f"{_champion_outputs(champion)}/{paths.COMPILATION_LOG}")
            log = None if data is None else data.decode("utf-8", errors="replace")
        return Response(serializers.ChampionDetailSerializer(
            champion, context={"compile_log": log, "private": private}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        rules.delete_champion(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChampionSources(APIView):
    @extend_schema(responses={(200, "application/gzip"): bytes})
    def get(self, request, pk):
        champion = rules.private_champion(request.user, pk)
        root, game = conf.shared_root()
        return files.download(f"{champion.directory(root, game)}/{paths.CHAMPION_SOURCES}",
                              f"champion-{champion.pk}.tgz", "application/gzip")


class ChampionLog(APIView):
    @extend_schema(responses={(200, "text/plain"): bytes})
    def get(self, request, pk):
        champion = rules.private_champion(request.user, pk)
        return files.download(f"{_champion_outputs(champion)}/{paths.COMPILATION_LOG}",
                              paths.COMPILATION_LOG, files.LOG_TYPE)


class MatchList(generics.ListAPIView):
    serializer_class = serializers.MatchRowSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    public_read = True

    @extend_schema(parameters=[
        OpenApiParameter("mine", bool, description="Only matches the user launched."),
        OpenApiParameter("champion", int), OpenApiParameter("author", str),
        OpenApiParameter("tournament", int),
        OpenApiParameter("status", str, enum=Match.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        request = self.request
        matches = listed_matches()
        if not request.user.is_authenticated:
            # A visitor reads tournaments' finished matches, as on the site.
            matches = matches.filter(PUBLIC_MATCHES)
        if _flag(request, "mine"):
            matches = matches.filter(author=request.user)
        champion = _positive_int(request, "champion")
        if champion is not None:
            matches = with_champion(matches, champion)
        if request.query_params.get("author"):
            matches = matches.filter(author__username=request.query_params["author"])
        tournament = _positive_int(request, "tournament")
        if tournament is not None:
            matches = matches.filter(tournament_id=tournament)
        if request.query_params.get("status"):
            matches = matches.filter(status=request.query_params["status"])
        return matches

    def paginate_queryset(self, queryset):
        # Players read as the site's list reads them: one query, no model per player.
        return with_players(super().paginate_queryset(queryset))

    @extend_schema(request=serializers.LaunchSerializer,
                   responses={201: serializers.MatchSerializer})
    def post(self, request):
        """Launch a match: the site's match form checks the champions and the map."""
        champions = request.data.get("champions")
        seats = conf.contest()["nb_players"]
        if not isinstance(champions, list) or len(champions) != seats:
            raise ValidationError({"champions": f"A match has {seats} champions, one a seat."})
        data = {f"champion_{seat}": str(c) for seat, c in enumerate(champions, 1)}
        if request.data.get("map") is not None:
            data["map"] = request.data["map"]
        form = MatchForm(data, user=request.user)
        if not form.is_valid():
            _form_refused(form)
        try:
            match = rules.launch_match(request.user, form.champions(), form.chosen_map())
        except limits.LimitReached as e:
            return _refused_by_limit(e)
        return Response(serializers.MatchSerializer(rules.match(match.pk),
                                                    context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class MatchDetail(APIView):
    public_read = True

    @extend_schema(responses=serializers.MatchSerializer)
    def get(self, request, pk):
        match = rules.match(pk)
        if not request.user.is_authenticated and not is_public_match(match):
            # As the site: a visitor sees finished tournament matches only.
            return Response({"detail": "Log in to see this match."},
                            status=status.HTTP_401_UNAUTHORIZED)
        return Response(serializers.MatchSerializer(match, context={"request": request}).data)


def _match_outputs(match):
    root, game = conf.shared_root()
    return match.outputs_directory(root, game)


class MatchDump(APIView):
    public_read = True

    @extend_schema(responses={(200, "application/gzip"): bytes})
    def get(self, request, pk):
        match = rules.match_with_outputs(request.user, pk, public=True)
        return files.download(f"{_match_outputs(match)}/{paths.DUMP}",
                              f"match-{match.pk}-dump.json.gz", "application/gzip")


class MatchReplay(APIView):
    public_read = True

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk):
        match = rules.match_with_outputs(request.user, pk, public=True)
        return files.download(f"{_match_outputs(match)}/{paths.REPLAY}",
                              f"match-{match.pk}-replay")


class MatchServerLog(APIView):
    @extend_schema(responses={(200, "text/plain"): bytes})
    def get(self, request, pk):
        match = rules.match_with_outputs(request.user, pk)
        return files.download(f"{_match_outputs(match)}/{paths.SERVER_LOG}", paths.SERVER_LOG,
                              files.LOG_TYPE)


class MatchPlayerLog(APIView):
    @extend_schema(responses={(200, "text/plain"): bytes})
    def get(self, request, pk, player_pk):
        match, player = rules.player_with_log(request.user, pk, player_pk)
        name = player.log_name()
        return files.download(f"{_match_outputs(match)}/{name}", name, files.LOG_TYPE)


class MapList(generics.ListAPIView):
    serializer_class = serializers.MapSerializer
    queryset = Map.objects.select_related("author")


class MapDetail(generics.RetrieveAPIView):
    serializer_class = serializers.MapSerializer
    queryset = Map.objects.select_related("author")


class TournamentList(generics.ListAPIView):
    serializer_class = serializers.TournamentSerializer
    queryset = Tournament.objects.all()
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    public_read = True
    write_scope = ApiToken.Scope.STAFF

    @extend_schema(request=serializers.TournamentCreateSerializer,
                   responses={201: serializers.TournamentSerializer})
    def post(self, request):
        """Create a tournament (staff), launched unless `launch` is false: the site's
        tournament form checks it."""
        data = request.data.dict() if hasattr(request.data, "dict") else dict(request.data)
        if isinstance(data.get("champions"), list):
            data["champions"] = " ".join(str(c) for c in data["champions"])
        data.setdefault("launch", True)
        if isinstance(data.get("maps"), list):
            data["maps"] = [str(m) for m in data["maps"]]
        form = TournamentForm(_form_data(data))
        if not form.is_valid():
            _form_refused(form)
        try:
            tournament = rules.create_tournament(form.cleaned_data,
                                                 rules.tournament_entrants(form.cleaned_data))
            if form.cleaned_data["launch"]:
                tournaments.launch(tournament)
        except ValueError as e:
            raise ValidationError({"detail": str(e)}) from None
        tournament.refresh_from_db()
        return Response(serializers.TournamentSerializer(tournament).data,
                        status=status.HTTP_201_CREATED)


def _form_data(data):
    """A JSON object as a Django form's data: lists stay lists, booleans as a checkbox
    sends them (absent when false)."""
    form_data = QueryDict(mutable=True)
    for key, value in data.items():
        if value is False or value is None:
            continue
        form_data.setlist(key, value if isinstance(value, list) else [str(value)])
    return form_data


class TournamentMatrix(APIView):
    public_read = True

    @extend_schema(responses=serializers.MatrixRowSerializer(many=True))
    def get(self, request, pk):
        """Head to head, in rank order: the points each champion took from each other one
        (null where they never met, or on the diagonal)."""
        report = Report(get_object_or_404(Tournament, pk=pk))
        return Response([{"champion": player.champion_id,
                          "name": report.names[player.champion_id], "points": cells}
                         for player, cells in report.matrix()])


class TournamentRerunFailed(APIView):
    scope = ApiToken.Scope.STAFF

    @extend_schema(request=None, responses={200: serializers.RerunSerializer})
    def post(self, request, pk):
        """Queue the tournament's failed matches again (staff)."""
        tournament = get_object_or_404(Tournament, pk=pk)
        return Response({"queued": tournaments.rerun_failed(tournament)})


class TournamentLaunch(APIView):
    scope = ApiToken.Scope.STAFF

    @extend_schema(request=None, responses={200: serializers.TournamentSerializer})
    def post(self, request, pk):
        """Launch a created tournament (staff): queue its matches."""
        tournament = get_object_or_404(Tournament, pk=pk)
        try:
            tournaments.launch(tournament)
        except ValueError as e:
            raise ValidationError({"detail": str(e)}) from None
        tournament.refresh_from_db()
        return Response(serializers.TournamentSerializer(tournament).data)


class TournamentDetail(generics.RetrieveAPIView):
    serializer_class = serializers.TournamentSerializer
    queryset = Tournament.objects.all()
    public_read = True


class TournamentStandings(APIView):
    public_read = True

    @extend_schema(responses=serializers.StandingSerializer(many=True))
    def get(self, request, pk):
        """The standings the tournament's page shows, best first."""
        report = Report(get_object_or_404(Tournament, pk=pk))
        rows = [{"rank": row.rank, "champion": row.champion, "name": report.names[row.champion],
                 "points": row.points, "score": row.score, "played": row.played,
                 "wins": row.wins, "draws": row.draws, "losses": row.losses}
                for row, _ in report.table()]
        return Response(serializers.StandingSerializer(rows, many=True).data)


class Leaderboard(APIView):
    public_read = True

    @extend_schema(responses=serializers.LeaderboardRowSerializer(many=True))
    def get(self, request):
        """Each player's best rated champion, best first."""
        return Response(serializers.LeaderboardRowSerializer(rules.leaderboard_rows(),
                                                             many=True).data)


class ChampionRatingHistory(APIView):
    public_read = True

    @extend_schema(responses=serializers.RatingPointSerializer(many=True))
    def get(self, request, pk):
        """The champion's rating after each of its rated matches, oldest first (the
        latest ones, as its rating page's chart)."""
        champion = get_object_or_404(Champion, pk=pk)
        return Response([{"match": match_id, "mu": mu, "sigma": sigma,
                          "rating": ratings.Rating(mu, sigma).display}
                         for match_id, mu, sigma in rules.rating_history(champion)])


class ClusterStatus(APIView):
    scope = ApiToken.Scope.STAFF

    @extend_schema(responses={200: dict})
    def get(self, request):
        """The master's status document (staff)."""
        try:
            return Response(cluster.master_status())
        except cluster.MasterUnavailable as e:
            raise Unavailable(str(e)) from None


class TokenCreate(APIView):
    """A new personal token from one's user name and password (HTTP Basic), for
    `stechec login --username`; the account page makes them too. Neither a token nor a
    session may make one: a token cannot widen its own scopes."""

    authentication_classes = [api_tokens.LimitedBasicAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(request=serializers.TokenRequestSerializer,
                   responses={201: serializers.NewTokenSerializer})
    def post(self, request):
        try:
            row, token = api_tokens.create(request.user, str(request.data.get("name", "")),
                                           request.data.get("scopes") or [])
        except (api_tokens.BadToken, TypeError) as e:
            raise ValidationError({"detail": str(e)}) from None
        return Response({"name": row.name, "scopes": sorted(row.scope_set), "token": token},
                        status=status.HTTP_201_CREATED)


class WebhookList(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses=serializers.WebhookSerializer(many=True))
    def get(self, request):
        """One's webhooks (docs/webhooks.md), without their secrets."""
        return Response(serializers.WebhookSerializer(webhooks.of(request.user),
                                                      many=True).data)

    @extend_schema(request=serializers.WebhookRequestSerializer,
                   responses={201: serializers.NewWebhookSerializer})
    def post(self, request):
        """Register a webhook, as the account page does; its secret is shown this once."""
        data = request.data if isinstance(request.data, dict) else {}
        events = data.get("events")
        try:
            hook, _ = webhooks.create(
                request.user, str(data.get("url", "")),
                [str(e) for e in events] if isinstance(events, list) else [],
                discord=data.get("discord") is True, contest_wide=data.get("contest_wide") is True)
        except webhooks.BadWebhook as e:
            raise ValidationError({"detail": str(e)}) from None
        return Response(serializers.NewWebhookSerializer(hook).data,
                        status=status.HTTP_201_CREATED)


class WebhookDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        """Delete one's webhook and its deliveries."""
        if not webhooks.delete(request.user, pk):
            raise NotFound("No such webhook of yours.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveries(APIView):
    @extend_schema(responses=serializers.WebhookDeliverySerializer(many=True))
    def get(self, request, pk):
        """The webhook's latest deliveries and their outcomes, newest first."""
        hook = get_object_or_404(webhooks.of(request.user), pk=pk)
        return Response(serializers.WebhookDeliverySerializer(
            webhooks.recent_deliveries(request.user, hook.pk), many=True).data)
