"""`stechec-manage undrain WORKER`: the worker takes tasks again."""

from django.utils.translation import gettext

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = "Undo `drain`: the worker takes tasks again."

    def add_arguments(self, parser):
        parser.add_argument("worker", help="host:port, as the status page names it")
        super().add_arguments(parser)

    def act(self, actor, options):
        operations.undrain(actor, options["worker"])
        return gettext("worker %(worker)s takes tasks again") % {"worker": options["worker"]}
