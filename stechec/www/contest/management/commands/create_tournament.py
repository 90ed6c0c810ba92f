"""`stechec-manage create_tournament`: enter champions and maps in a new tournament."""

from django.core.management.base import CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from django.utils.translation import gettext

from stechec.contest import pairing, tournaments
from stechec.contest.models import Map, Tournament
from stechec.www.contest import conf
from stechec.www.contest.management.site_language import SiteCommand


class Command(SiteCommand):
    help = ("Create a tournament: by default each player's latest ready champion (before "
            "--deadline, staff excluded) on every official map; --launch queues its matches.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--format", default=pairing.ROUND_ROBIN,
                            choices=[value for value, _ in Tournament.Format.choices])
        parser.add_argument("--rounds", type=int, default=0, help="Swiss: how many rounds")
        parser.add_argument("--champions", type=int, nargs="+", metavar="ID",
                            help="these champions instead of each player's latest")
        parser.add_argument("--deadline", help="only champions submitted before this date "
                            "(ISO 8601, e.g. 2026-05-01T18:00)")
        parser.add_argument("--include-staff", action="store_true",
                            help="enter staff's champions too")
        parser.add_argument("--maps", type=int, nargs="*", metavar="ID",
                            help="these maps instead of the official ones (none: no map)")
        parser.add_argument("--launch", action="store_true", help="queue its matches now")

    def handle(self, *args, **options):
        deadline = None
        if options["deadline"]:
            deadline = parse_datetime(options["deadline"])
            if deadline is None:
                raise CommandError(gettext("--deadline %(value)s is not a date and time "
                                           "(ISO 8601, e.g. 2026-05-01T18:00)")
                                   % {"value": repr(options["deadline"])})
            if is_naive(deadline):
                deadline = make_aware(deadline, get_current_timezone())
        champions = options["champions"] or tournaments.default_champions(
            deadline, options["include_staff"])
        maps = options["maps"]
        if maps is None:
            maps = list(Map.objects.filter(official=True).values_list("pk", flat=True))
        try:
            tournament = tournaments.create(options["name"], options["format"], champions, maps,
                                            nb_players=conf.contest()["nb_players"],
                                            rounds=options["rounds"])
            queued = tournaments.launch(tournament) if options["launch"] else 0
        except ValueError as e:
            raise CommandError(str(e)) from None
        created = {"number": tournament.pk, "champions": len(champions), "maps": len(maps),
                   "queued": queued}
        self.stdout.write((gettext("tournament %(number)s created: %(champions)s champions, "
                                   "%(maps)s maps, %(queued)s matches queued") if queued else
                           gettext("tournament %(number)s created: %(champions)s champions, "
                                   "%(maps)s maps; launch it with launch_tournament"))
                          % created)
