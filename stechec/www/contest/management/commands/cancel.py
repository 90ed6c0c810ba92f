"""`stechec-manage cancel MATCH`: end a waiting or running match."""

from django.utils.translation import gettext

from stechec.contest import operations, reasons
from stechec.contest.models import Match
from stechec.www.contest.management.operator import OperatorCommand


class Command(OperatorCommand):
    help = ("Cancel a waiting or running match: it ends failed, cancelled (it counts for "
            "nothing), and the master stops its programs on the worker.")

    def add_arguments(self, parser):
        parser.add_argument("match", type=int, help="the match's number")
        super().add_arguments(parser)

    def act(self, actor, options):
        """The match and its reason as its page shows it, in the site's language."""
        operations.cancel_match(actor, options["match"])
        reason, detail = Match.objects.values_list("failure_reason", "failure_detail").get(
            pk=options["match"])
        return gettext("match %(match)s %(reason)s") % {
            "match": options["match"], "reason": reasons.shown(reason, detail)}
