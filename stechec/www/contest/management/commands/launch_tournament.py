"""`stechec-manage launch_tournament ID`: queue a created tournament's first matches."""

from django.core.management.base import CommandError
from django.utils.translation import gettext, ngettext

from stechec.contest import tournaments
from stechec.contest.models import Tournament
from stechec.www.contest.management.site_language import SiteCommand


class Command(SiteCommand):
    help = "Launch a created tournament: its first round (round robin: every match) is queued."

    def add_arguments(self, parser):
        parser.add_argument("tournament", type=int, help="the tournament's id")

    def handle(self, *args, **options):
        tournament = Tournament.objects.filter(pk=options["tournament"]).first()
        if tournament is None:
            raise CommandError(gettext("no tournament %(number)s")
                               % {"number": options["tournament"]})
        try:
            queued = tournaments.launch(tournament)
        except ValueError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(ngettext("tournament %(number)s launched: %(queued)s match queued",
                                   "tournament %(number)s launched: %(queued)s matches queued",
                                   queued) % {"number": tournament.pk, "queued": queued})
