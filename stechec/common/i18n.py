"""Translation of the shared code's texts, where there is a reader.

stechec/common runs in the site (Django, with the reader's language active),
in the master and in the worker and the CLI (no Django, or no language of
their own). Its texts for players are marked as the site's are (gettext,
ngettext, gettext_noop: tools/update-translations collects them into the
French catalogue) and resolve through Django's translation when Django's
settings are configured, else stay English: the worker's logs and the
verdicts it sends are the same whoever reads them, and the site translates
them when it shows them.
"""

import sys


def _translation():
    """django.utils.translation once Django is configured and set up (its translation needs
    both), else None. Django is looked for among the loaded modules: the worker never
    imports it."""
    conf, apps = sys.modules.get("django.conf"), sys.modules.get("django.apps")
    if conf is None or apps is None or not conf.settings.configured or not apps.apps.ready:
        return None
    from django.utils import translation
    return translation


def gettext(message):
    translation = _translation()
    return message if translation is None else translation.gettext(message)


def ngettext(singular, plural, number):
    translation = _translation()
    if translation is None:
        return singular if number == 1 else plural
    return translation.ngettext(singular, plural, number)


def gettext_noop(message):
    """Marks a text to translate later, when it is shown (gettext(text))."""
    return message


def number(value, decimals):
    """`value` with `decimals` decimals, written the reader's way ("0,52" in French)."""
    translation = _translation()
    if translation is None:
        return f"{value:.{decimals}f}"
    from django.utils.formats import number_format
    return number_format(value, decimals)
