"""What the `stechec-manage` commands of staff's operations share (pause, resume, drain,
undrain, requeue, cancel): who acts, recorded with the action, and one clear error."""

import getpass

from django.core.management.base import CommandError

from stechec.www.contest.management.site_language import SiteCommand


def shell_user():
    try:
        return f"{getpass.getuser()} (stechec-manage)"
    except (KeyError, OSError):
        # No login name for this uid (a container's): the tool alone names it.
        return "stechec-manage"


class OperatorCommand(SiteCommand):
    """An operation recorded as done by --as (the shell user by default); its ValueError,
    which names what is wrong, is the command's error."""

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="actor", default=shell_user(),
                            help="who acts, as the record shows it (default: your login name)")

    def handle(self, *args, **options):
        try:
            self.stdout.write(self.act(options["actor"], options))
        except ValueError as e:
            raise CommandError(str(e)) from None

    def act(self, actor, options):
        """Do the operation; the line to print."""
        raise NotImplementedError
