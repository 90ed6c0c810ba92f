"""`stechec-manage recompute_ratings`: every rating again, from the match history."""

from django.db import transaction

from stechec.contest import champion_ratings
from stechec.www.contest.management.site_language import SiteCommand


class Command(SiteCommand):
    help = ("Recompute every champion's rating by replaying rated matches in the order the "
            "master rated them; gives exactly what the master applied, reruns counted once.")

    def handle(self, *args, **options):
        with transaction.atomic():
            replayed = champion_ratings.recompute_in_rated_order()
        self.stdout.write(f"{replayed} matches replayed")
