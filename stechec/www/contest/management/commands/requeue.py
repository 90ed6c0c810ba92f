"""`stechec-manage requeue --failed-matches|--failed-champions [filters]`."""

import datetime

from django.utils.translation import gettext

from stechec.contest import operations
from stechec.www.contest.management.operator import OperatorCommand


def moment(text):
    """An ISO date and time, UTC unless it says otherwise."""
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


class Command(OperatorCommand):
    help = ("Put failed tasks back in the queue with all their tries again: matches that "
            "failed (cancelled ones aside), or compilations that failed for the platform; "
            "the filters narrow them.")

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--failed-matches", action="store_true")
        what.add_argument("--failed-champions", action="store_true")
        parser.add_argument("--tournament", type=int, help="a tournament's number (matches)")
        parser.add_argument("--reason", help="words the failure reason holds (any case)")
        parser.add_argument("--worker", help="host:port of the latest attempt's worker")
        parser.add_argument("--since", type=moment,
                            help="queued at or after this ISO date and time, UTC unless it "
                            "says, e.g. 2026-05-01T18:00")
        super().add_arguments(parser)

    def act(self, actor, options):
        filters = {key: options[key] for key in ("reason", "worker", "since")}
        if options["failed_matches"]:
            count = operations.requeue_matches(actor, tournament=options["tournament"],
                                               **filters)
            return gettext("%(count)s matches requeued") % {"count": count}
        count = operations.requeue_champions(actor, tournament=options["tournament"], **filters)
        return gettext("%(count)s champions requeued") % {"count": count}
