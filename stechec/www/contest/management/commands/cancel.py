"""`stechec-manage cancel MATCH`: end a waiting or running match."""

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = ("Cancel a waiting or running match: it ends failed, cancelled (it counts for "
            "nothing), and the master stops its programs on the worker.")

    def add_arguments(self, parser):
        parser.add_argument("match", type=int, help="the match's number")
        super().add_arguments(parser)

    def act(self, actor, options):
        return f"match {options['match']} {operations.cancel_match(actor, options['match'])}"
