"""`stechec-manage launch_tournament ID`: queue a created tournament's first matches."""

from django.core.management.base import BaseCommand, CommandError

from stechec.contest import tournaments
from stechec.contest.models import Tournament


class Command(BaseCommand):
    help = "Launch a created tournament: its first round (round robin: every match) is queued."

    def add_arguments(self, parser):
        parser.add_argument("tournament", type=int, help="the tournament's id")

    def handle(self, *args, **options):
        tournament = Tournament.objects.filter(pk=options["tournament"]).first()
        if tournament is None:
            raise CommandError(f"no tournament {options['tournament']}")
        try:
            queued = tournaments.launch(tournament)
        except ValueError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"tournament {tournament.pk} launched: {queued} matches queued")
