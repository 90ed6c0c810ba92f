"""Tournaments in the database: entering champions, launching, rounds, points, standings.

`pairing.py` and `standings.py` hold the rules; this module applies them to
the models. The site and `stechec-manage` create and launch tournaments; the
master adds each match's points as it applies the result
(tournament_points.add_points) and starts the next round, or closes the
tournament, once nothing of the current round is waiting or running
(`advance`). See docs/tournaments.md.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from stechec.common.i18n import gettext, ngettext
from stechec.contest import pairing, reasons, standings, transitions, webhook_events
from stechec.contest.models import (
    Champion,
    Map,
    Match,
    MatchPlayer,
    Priority,
    Tournament,
    TournamentMap,
    TournamentPlayer,
)

logger = logging.getLogger(__name__)

# A round robin larger than this is refused: check the format or the champions.
MAX_MATCHES = 200_000


def default_champions(deadline=None, include_staff=False):
    """Each player's latest ready champion submitted before `deadline` (None: any time).

    Staff's champions are left out unless `include_staff`.
    """
    champions = Champion.objects.latest_ready(deadline)
    if not include_staff:
        champions = champions.filter(author__is_staff=False)
    return sorted(champions.values_list("id", flat=True))


def create(name, format, champion_ids, map_ids, *, nb_players, rounds=0):
    """A `created` tournament with its champions and maps; ValueError naming what is wrong."""
    name = name.strip()
    if not name:
        raise ValueError(gettext("a tournament needs a name"))
    pairing.check_format(format, nb_players)
    champion_ids = pairing.check_champions(champion_ids, nb_players)
    if format == pairing.SWISS and rounds < 1:
        raise ValueError(gettext("a Swiss tournament needs at least 1 round"))
    if format != pairing.SWISS and rounds:
        raise ValueError(gettext("only Swiss tournaments have a number of rounds"))
    ready = set(Champion.objects.visible().filter(pk__in=champion_ids,
                                                  status=Champion.Status.READY)
                .values_list("pk", flat=True))
    missing = [pk for pk in champion_ids if pk not in ready]
    if missing:
        raise ValueError(ngettext("champion %(numbers)s is not a ready champion",
                                  "champions %(numbers)s are not ready champions", len(missing))
                         % {"numbers": pairing.listed(missing)})
    map_ids = sorted(set(map_ids))
    known = set(Map.objects.filter(pk__in=map_ids).values_list("pk", flat=True))
    unknown = [pk for pk in map_ids if pk not in known]
    if unknown:
        raise ValueError(ngettext("map %(numbers)s does not exist",
                                  "maps %(numbers)s do not exist", len(unknown))
                         % {"numbers": pairing.listed(unknown)})
    if format == pairing.ROUND_ROBIN:
        size = pairing.round_robin_size(len(champion_ids), nb_players, len(map_ids))
        if size > MAX_MATCHES:
            raise ValueError(gettext("this round robin makes %(size)s matches, more than "
                                     "%(most)s: enter fewer champions or maps")
                             % {"size": size, "most": MAX_MATCHES})
    with transaction.atomic():
        tournament = Tournament.objects.create(name=name, format=format, nb_players=nb_players,
                                               rounds=rounds)
        TournamentPlayer.objects.bulk_create(
            TournamentPlayer(tournament=tournament, champion_id=pk) for pk in champion_ids)
        TournamentMap.objects.bulk_create(
            TournamentMap(tournament=tournament, map_id=pk) for pk in map_ids)
    return tournament


def _champion_ids(tournament):
    return sorted(tournament.players.values_list("champion_id", flat=True))


def _map_ids(tournament):
    return sorted(TournamentMap.objects.filter(tournament=tournament)
                  .values_list("map_id", flat=True))


def launch(tournament):
    """Start a `created` tournament: its first round (round robin: every match) is queued.

    Single elimination seeds champions by their displayed rating now.
    Raises ValueError if the tournament was already launched.
    """
    with transaction.atomic():
        started = Tournament.objects.filter(pk=tournament.pk, status=Tournament.Status.CREATED)\
            .update(status=Tournament.Status.RUNNING, started_at=timezone.now())
        if not started:
            raise ValueError(gettext("tournament %(number)s was already launched")
                             % {"number": tournament.pk})
        tournament.refresh_from_db()
        champions, maps = _champion_ids(tournament), _map_ids(tournament)
        if tournament.format == pairing.ROUND_ROBIN:
            created = _create_round(tournament, pairing.round_robin(
                champions, tournament.nb_players, maps), None)
        elif tournament.format == pairing.SWISS:
            created = _create_swiss_round(tournament, champions, [], maps)
        else:
            ratings = dict(Champion.objects.filter(pk__in=champions)
                           .values_list("pk", "rating"))
            seeds = pairing.seed_order(ratings)
            for seed, champion in enumerate(seeds, start=1):
                TournamentPlayer.objects.filter(tournament=tournament, champion_id=champion)\
                    .update(seed=seed)
            round_ = pairing.slot_pairings(pairing.elimination_first_round(seeds), maps)
            created = _create_round(tournament, round_.pairings, 0)
    logger.info("tournament %d: launched, %d matches queued", tournament.pk, created)
    return created


def _create_round(tournament, pairings, round_number):
    """Queue the matches of `pairings` at tournament priority; how many."""
    return len(Match.launch_many(pairings, priority=Priority.TOURNAMENT, tournament=tournament,
                                 round=round_number))


def _create_swiss_round(tournament, champions, rounds, maps):
    round_ = pairing.swiss_next_round(champions, rounds, seed=tournament.pk, maps=maps)
    for champion in round_.byes:
        TournamentPlayer.objects.filter(tournament=tournament, champion_id=champion)\
            .update(score=F("score") + standings.WIN_POINTS)
    return _create_round(tournament, round_.pairings, len(rounds))


def rerun_failed(tournament):
    """Queue the tournament's failed matches again; how many. A finished tournament resumes."""
    with transaction.atomic():
        count = transitions.rerun_matches(tournament.matches.filter(status=Match.Status.FAILED))
        if count:
            Tournament.objects.filter(pk=tournament.pk).update(
                status=Tournament.Status.RUNNING, finished_at=None)
    return count


def advance_all():
    """For the master: move every running tournament whose round is over; how many moved."""
    moved = 0
    for tournament_id in Tournament.objects.filter(status=Tournament.Status.RUNNING)\
            .values_list("pk", flat=True):
        with transaction.atomic():
            moved += advance(tournament_id)
    return moved


def advance(tournament_id):
    """Start the next round, or finish the tournament, once no match of it is in flight.

    Returns how many matches it queued, or 1 when it finished the tournament.
    A round with a failed match waits for it to be rerun (the reason is
    shown on the tournament's page).
    """
    tournament = Tournament.objects.select_for_update().filter(
        pk=tournament_id, status=Tournament.Status.RUNNING).first()
    if tournament is None or tournament.matches.filter(status__in=Match.IN_FLIGHT).exists():
        return 0
    champions, maps = _champion_ids(tournament), _map_ids(tournament)
    rounds = load_rounds(tournament)
    try:
        if tournament.format == pairing.SWISS:
            if len(rounds) < tournament.rounds:
                return _next_swiss_round(tournament, champions, rounds, maps)
            ranks = None
        elif tournament.format == pairing.SINGLE_ELIMINATION:
            seeds = list(tournament.players.order_by("seed").values_list("champion_id",
                                                                          flat=True))
            bracket = pairing.elimination_bracket(
                seeds, [r for results in rounds for r in results],
                matches_per_slot=len(maps) or 1)
            if bracket.champion is None:
                return _next_elimination_round(tournament, bracket, maps)
            ranks = bracket.ranks()
        else:
            ranks = None
    except pairing.RoundNotFinished as e:
        return _wait(tournament, e.reason)
    finish(tournament, ranks)
    return 1


def _next_swiss_round(tournament, champions, rounds, maps):
    failed = [r.match_id for results in rounds for r in results if r.failed]
    if failed:
        raise pairing.RoundNotFinished(reasons.reason("round_match_failed", match=failed[0]))
    created = _create_swiss_round(tournament, champions, rounds, maps)
    _resume(tournament)
    logger.info("tournament %d: Swiss round %d of %d queued, %d matches", tournament.pk,
                len(rounds) + 1, tournament.rounds, created)
    return created


def _next_elimination_round(tournament, bracket, maps):
    number = len(bracket.rounds) - 1
    failed = tournament.matches.filter(round=number, status=Match.Status.FAILED)\
        .values_list("pk", flat=True).first()
    if failed is not None:
        # The round was played and could not be decided.
        raise pairing.RoundNotFinished(reasons.reason("round_match_failed", match=failed))
    created = _create_round(tournament, pairing.slot_pairings(bracket.current, maps).pairings,
                            number)
    _resume(tournament)
    logger.info("tournament %d: elimination round %d queued, %d matches", tournament.pk,
                number + 1, created)
    return created


def _wait(tournament, reason):
    """The tournament waits for `reason` (a detail of stechec.contest.reasons)."""
    text = reasons.text(reason)
    if tournament.waiting_reason != text:
        logger.warning("tournament %d waits: %s", tournament.pk, text)
        Tournament.objects.filter(pk=tournament.pk).update(waiting_reason=text,
                                                           waiting_detail=reason)
    return 0


def _resume(tournament):
    if tournament.waiting_reason:
        Tournament.objects.filter(pk=tournament.pk).update(waiting_reason="",
                                                           waiting_detail=None)


def finish(tournament, ranks=None):
    """Close the tournament: final points and ranks from its results.

    `ranks` are single elimination's places; otherwise ranks follow the
    standings (points, then cumulative score, ex aequo sharing a rank).
    """
    table = compute_standings(tournament)
    players = list(tournament.players.all())
    rows = {row.champion: row for row in table.rows}
    for player in players:
        player.score = rows[player.champion_id].points
        player.rank = (ranks or {}).get(player.champion_id, rows[player.champion_id].rank)
    TournamentPlayer.objects.bulk_update(players, ["score", "rank"], batch_size=500)
    Tournament.objects.filter(pk=tournament.pk).update(
        status=Tournament.Status.DONE, finished_at=timezone.now(), waiting_reason="",
        waiting_detail=None)
    webhook_events.tournament_finished(tournament.pk)
    logger.info("tournament %d: done, %d matches failed", tournament.pk, len(table.failed))


def seat_rows(tournament):
    """Every seat of every match of the tournament, in one query.

    Rows (match id, match status, round, champion id, score), by match id
    then seat: what `rounds`, `compute_standings` and `progress` read.
    """
    return list(MatchPlayer.objects.filter(match__tournament=tournament)
                .order_by("match_id", "id")
                .values_list("match_id", "match__status", "match__round", "champion_id",
                             "score"))


def load_rounds(tournament, rows=None):
    """The finished matches' results per round (round robin: one round), in match id order."""
    rounds = []
    finished = [row for row in (seat_rows(tournament) if rows is None else rows)
                if row[1] in Match.FINISHED]
    round_of = {match_id: round_number or 0 for match_id, _, round_number, _, _ in finished}
    for result in standings.results_from_rows(
            (match_id, status == Match.Status.FAILED, champion, score)
            for match_id, status, _, champion, score in finished):
        number = round_of[result.match_id]
        while len(rounds) <= number:
            rounds.append([])
        rounds[number].append(result)
    return rounds


def compute_standings(tournament, champions=None, rows=None):
    """The standings from the matches finished so far (Swiss byes counted)."""
    champions = _champion_ids(tournament) if champions is None else champions
    rows = seat_rows(tournament) if rows is None else rows
    byes = None
    if tournament.format == pairing.SWISS:
        seated = {}
        for _, _, round_number, champion, _ in rows:
            seated.setdefault(round_number, set()).add(champion)
        byes = {}
        for seats in seated.values():
            for champion in champions:
                if champion not in seats:
                    byes[champion] = byes.get(champion, 0) + 1
    return standings.compute(champions, [result for results in load_rounds(tournament, rows)
                                         for result in results], byes)


@dataclass
class Progress:
    total: int
    done: int
    failed: int
    in_flight: int
    # Seconds left at the pace so far, None before the first finished match.
    eta_secs: float | None

    @property
    def percent(self):
        return 100 * (self.done + self.failed) // self.total if self.total else 100


def expected_matches(tournament, nb_champions, nb_maps):
    """How many matches the whole tournament plays."""
    per_pair = max(nb_maps, 1)
    if tournament.format == pairing.ROUND_ROBIN:
        return pairing.round_robin_size(nb_champions, tournament.nb_players, nb_maps)
    if tournament.format == pairing.SWISS:
        return tournament.rounds * (nb_champions // 2) * per_pair
    return max(nb_champions - 1, 0) * per_pair


def progress(tournament, rows, nb_champions, nb_maps):
    """Done, failed and waiting matches, and an estimate of the time left, from `seat_rows`."""
    statuses = {match_id: status for match_id, status, *_ in rows}
    done = sum(1 for status in statuses.values() if status == Match.Status.DONE)
    failed = sum(1 for status in statuses.values() if status == Match.Status.FAILED)
    total = len(statuses)
    if tournament.status != Tournament.Status.DONE:
        total = max(total, expected_matches(tournament, nb_champions, nb_maps))
    eta = None
    if done + failed and tournament.started_at and tournament.status == Tournament.Status.RUNNING:
        elapsed = (timezone.now() - tournament.started_at).total_seconds()
        eta = elapsed / (done + failed) * (total - done - failed)
    return Progress(total, done, failed, len(statuses) - done - failed, eta)
