"""`stechec-manage drain WORKER`: no new task goes to the worker."""

from django.utils.translation import gettext

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = ("Drain a worker: the master places no new task there, the worker finishes what "
            "it runs; once the status page shows it idle it can be stopped. `undrain` "
            "undoes it.")

    def add_arguments(self, parser):
        parser.add_argument("worker", help="host:port, as the status page names it")
        super().add_arguments(parser)

    def act(self, actor, options):
        operations.drain(actor, options["worker"])
        return gettext("worker %(worker)s drained") % {"worker": options["worker"]}
