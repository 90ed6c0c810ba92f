"""`stechec-manage resume`: the master places tasks again."""

from django.utils.translation import gettext

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = "Resume dispatching after `pause`."

    def act(self, actor, options):
        operations.resume(actor)
        return gettext("dispatching resumed")
