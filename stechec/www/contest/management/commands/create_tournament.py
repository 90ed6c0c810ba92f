"""`stechec-manage create_tournament`: enter champions and maps in a new tournament."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware

from stechec.contest import pairing, tournaments
from stechec.contest.models import Map, Tournament
from stechec.www.contest import conf


class Command(BaseCommand):
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
                raise CommandError(f"--deadline {options['deadline']!r} is not a date and time "
                                   "(ISO 8601, e.g. 2026-05-01T18:00)")
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
        self.stdout.write(f"tournament {tournament.pk} created: {len(champions)} champions, "
                          f"{len(maps)} maps" + (f", {queued} matches queued" if queued else
                                                 "; launch it with launch_tournament"))
