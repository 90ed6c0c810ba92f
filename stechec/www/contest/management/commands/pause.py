"""`stechec-manage pause`: the master places no new task; running ones finish."""

from django.utils.translation import gettext

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = ("Pause dispatching: the master starts no compilation or match until `resume`; "
            "running ones finish and their results are applied. It stays paused through "
            "restarts.")

    def act(self, actor, options):
        operations.pause(actor)
        return gettext("dispatching paused")
