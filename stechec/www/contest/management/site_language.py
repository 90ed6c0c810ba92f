"""What every `stechec-manage` command of the site shares: the site's language.

A command has no reader's language: it speaks the site's default
(settings.LANGUAGE_CODE), as the site does for a visitor who asks for none,
whatever language the thread that runs it has active (call_command from code
that served a French request, a test).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation


class SiteCommand(BaseCommand):
    """A command whose messages and refusals, its own and the core's, are in the site's
    default language."""

    def execute(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            return super().execute(*args, **options)
