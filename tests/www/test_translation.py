"""Every text of the site goes through Django's translation machinery, and
the French catalogue translates all of it."""

import ast
import datetime
import pathlib
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from stechec.common import verdicts
from stechec.contest.models import MatchPlayer
from tests.conftest import require_tool
from tests.www.helpers import finished_match, make_tgz, ready_champion, text, upload_file

STECHEC = pathlib.Path(__file__).resolve().parents[2] / "stechec"
WWW = STECHEC / "www"
TEMPLATES = (sorted(WWW.glob("templates/**/*.html")) + sorted(WWW.glob("templates/**/*.txt"))
             + [WWW / "replay_viewer" / "replay.html"])
PO = WWW / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# Words that are the same in every language: the site's name, and the
# extension of a file name made of variables ({{ game }}-{{ language }}.tgz).
ALLOWED_WORDS = {"Stechec2", "tgz"}

_TRANSLATED = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}"
    r"|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}"
    r"|{#.*?#}"
    r"|<(script|style|code|pre)\b[^>]*>.*?</\1>", re.S)
# Attributes a person reads: their values must be translated like the text.
_READ_ATTRIBUTE = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
_TAG = re.compile(r"{%.*?%}|{{.*?}}|<[^>]*>", re.S)


def untranslated_words(source):
    """The words of a template's source that a person would read and that no
    {% translate %} or {% blocktranslate %} carries."""
    untranslated = _TRANSLATED.sub(" ", source)
    attributes = _READ_ATTRIBUTE.findall(untranslated)
    words = []
    for chunk in [untranslated, *attributes]:
        chunk = _TAG.sub(" ", chunk)
        words += [w for w in re.findall(r"[^\W\d_][\w'’.-]*", chunk) if w not in ALLOWED_WORDS]
    return words


def test_the_checker_finds_a_bare_sentence_and_an_attribute():
    assert untranslated_words('<p>Hello {{ user }}</p><a title="your account">x</a>') == \
        ["Hello", "x", "your", "account"]
    assert untranslated_words(
        '{% load i18n %}<p>{% translate "Hello" %} {{ user }}</p>'
        '{% blocktranslate %}Hi {{ x }}{% endblocktranslate %}<code>make tar</code>'
        '<a title="{% translate \'yours\' %}">Stechec2</a>{# why #}') == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(WWW)))
def test_every_template_text_is_marked_for_translation(template):
    assert untranslated_words(template.read_text()) == []


# Python code's texts for players: the calls that show their message argument (Django's
# messages and errors, the site's and the core's refusals), and where each is looked for.
_MESSAGE_SECOND = {"success", "error", "warning", "info", "add_error"}
_SITE_CALLS = _MESSAGE_SECOND | {"Http404", "PermissionDenied", "ValidationError",
                                 "LimitReached", "MapRefused", "MasterUnavailable", "BadToken",
                                 "BadFile"}
_CORE_CALLS = {STECHEC / "common" / "archive.py": {"ArchiveError"},
               STECHEC / "contest" / "pairing.py": {"ValueError"},
               STECHEC / "contest" / "operations.py": {"ValueError"},
               STECHEC / "contest" / "tournaments.py": {"ValueError"}}
PYTHON_SOURCES = {path: _SITE_CALLS for path in sorted(WWW.rglob("*.py"))
                  if "migrations" not in path.parts and "management" not in path.parts} \
    | _CORE_CALLS


def _bare_text(node):
    """Whether `node` is a text no translation call carries: a literal or f-string, or
    one formatted with % or extended with +."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _bare_text(node.left)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
        and re.search(r"[^\W\d_]", node.value) is not None)


def untranslated_messages(source, calls):
    """The lines of `source` where one of `calls` (by name) gets a bare text as its message:
    the first argument, the second for a Django message or a form's add_error. Loggers'
    calls are for operators and stay English."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        receiver = getattr(getattr(func, "value", None), "id", None)
        if name not in calls or receiver == "logger":
            continue
        index = 1 if name in _MESSAGE_SECOND else 0
        if len(node.args) > index and _bare_text(node.args[index]):
            lines.append(node.lineno)
    return lines


def test_the_message_checker_finds_bare_texts():
    source = ('raise ValueError(f"bad {x}")\n'
              'messages.success(request, "Saved.")\n'
              'form.add_error("field", "wrong: %s" % x)\n'
              'raise ValueError(_("bad %(x)s") % {"x": x})\n'
              'form.add_error("field", _("wrong"))\n'
              'logger.error("cannot %s", x)\n'
              'raise Http404(str(e))\n')
    assert untranslated_messages(source, _SITE_CALLS | {"ValueError"}) == [1, 2, 3]


@pytest.mark.parametrize("module", PYTHON_SOURCES, ids=lambda p: str(p.relative_to(STECHEC)))
def test_every_message_shown_to_players_is_marked_for_translation(module):
    assert untranslated_messages(module.read_text(), PYTHON_SOURCES[module]) == []


def _entries(po_text):
    """(flags, msgid, msgstr) of each entry of a .po file but its header."""
    entries = []
    for block in re.split(r"\n\s*\n", po_text.strip()):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        strings = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) "(.*)"$', line)
            if match:
                key = match.group(1)
                strings[key] = match.group(2)
            elif line.startswith('"') and key:
                strings[key] += line[1:-1]
        if strings.get("msgid"):
            translations = [v for k, v in strings.items() if k.startswith("msgstr")]
            entries.append((flags, strings["msgid"], translations))
    return entries


def test_the_french_catalogue_is_complete():
    entries = _entries(PO.read_text())
    assert len(entries) > 100
    assert [msgid for flags, msgid, _ in entries if "fuzzy" in flags] == []
    assert [msgid for _, msgid, translations in entries if not all(translations)] == []


def test_the_compiled_catalogue_is_the_po_file(tmp_path):
    msgfmt = require_tool("msgfmt", "GNU gettext's msgfmt compiles the catalogue")
    compiled = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == MO.read_bytes(), \
        "django.mo is not django.po compiled: run msgfmt -o django.mo django.po in its folder"


# The site in French: the browser's language, the switch, numbers, dates and mails.

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.mark.django_db
def test_the_site_speaks_the_browsers_language(client):
    french = text(client.get("/", **FRENCH))
    assert '<html lang="fr">' in french
    assert "Écrivez un champion, envoyez-le, et regardez-le se battre." in french
    # The switch offers the other language, named in itself.
    assert 'name="language" value="en"' in french and ">English</button>" in french

    english = text(client.get("/"))
    assert '<html lang="en">' in english
    assert "Write a champion, upload it, and watch it fight." in english
    assert ">Français</button>" in english


@pytest.mark.django_db
def test_the_switch_overrides_the_browser(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/learn/"}, **FRENCH)
    assert response.status_code == 302 and response["Location"] == "/learn/"
    assert "Learn to write a champion" in text(client.get("/learn/", **FRENCH))
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Apprendre à écrire un champion" in text(client.get("/learn/"))


@pytest.mark.django_db
def test_numbers_dates_messages_and_status_labels_in_french(client):
    alice = User.objects.create_user("alice", password="alice-password")
    champion = ready_champion(alice, rating_mu=25.5, rating_sigma=8.25)
    champion.ts = datetime.datetime(2026, 5, 1, 18, 30, 5, tzinfo=datetime.UTC)
    champion.save()
    client.force_login(alice)

    with timezone.override("UTC"):
        page = text(client.get(f"/champions/{champion.pk}/", **FRENCH))
    assert "(moyenne 25,50 ± 8,25, pas encore coté" in page
    assert "1 mai 2026 18:30:05" in page
    assert ">prêt</span>" in page

    response = client.post(f"/champions/{champion.pk}/delete/", **FRENCH)
    page = text(client.get(response["Location"], **FRENCH))
    assert "Champion champ supprimé." in page


@pytest.mark.django_db
def test_a_form_error_and_the_reset_mail_in_french(client, settings):
    User.objects.create_user("alice", email="alice@example.org", password="alice-password")
    client.force_login(User.objects.get(username="alice"))
    page = text(client.post("/maps/new/", {"name": "empty", "contents": "  \n"}, **FRENCH))
    assert "La carte est vide." in page
    client.logout()

    client.post(reverse("password_reset"), {"email": "alice@example.org"}, **FRENCH)
    [message] = mail.outbox
    assert message.subject == "Stechec2\xa0: choisissez un nouveau mot de passe"
    assert message.body.startswith("Bonjour alice,\n\nQuelqu’un (vous, nous l’espérons)")
    assert "ignorez ce message\xa0: votre mot de passe reste inchangé." in message.body


# Texts of the core (shared with the worker and the master) on French pages.

SEGFAULT = {"ended": "signal", "exit_status": None, "signal": "SIGSEGV", "limit": "",
            "limit_value": "", "cpu_ms": 1520, "wall_ms": 3100, "peak_memory_kib": 12 * 1024,
            "memory_from": "cgroup", "turn_ms": 1000}
OUT_OF_MEMORY = dict(SEGFAULT, ended="limit", signal="SIGKILL", limit="memory",
                     limit_value="512 MiB")


@pytest.mark.django_db
def test_verdicts_in_french_and_in_english(client):
    staff = User.objects.create_user("orga", password="orga-password", is_staff=True)
    alice, bob = (User.objects.create_user(name, password=f"{name}-password")
                  for name in ("alice", "bob"))
    match = finished_match(alice, [ready_champion(alice, "mine"), ready_champion(bob, "b")])
    first, second = match.players.all()
    MatchPlayer.objects.filter(pk=first.pk).update(score=0, verdict=SEGFAULT, nb_timeout=3,
                                                    has_timeout=True)
    MatchPlayer.objects.filter(pk=second.pk).update(score=0, verdict=OUT_OF_MEMORY)
    client.force_login(staff)
    url = reverse("match-detail", args=[match.pk])

    french = text(client.get(url, **FRENCH))
    assert "planté\xa0: erreur de segmentation (SIGSEGV)" in french
    assert "arrêté\xa0: a utilisé plus de 512 Mio de mémoire" in french
    assert "CPU 1,52 s, temps réel 3,10 s, pic de mémoire 12 Mio" in french
    assert "a mis plus de 1000 ms à répondre 3 fois" in french
    assert "crashed" not in french and "MiB" not in french

    english = text(client.get(url))
    assert "crashed: segmentation fault (SIGSEGV)" in english
    assert "stopped: used more than 512 MiB of memory" in english
    assert "CPU 1.52 s, wall 3.10 s, peak memory 12 MiB" in english
    assert "took longer than 1000 ms to answer 3 times" in english


# Django's settings in French but Django not set up (its translation needs both).
_CONFIGURED_ONLY = ("from django.conf import settings\n"
                    "settings.configure(USE_I18N=True, LANGUAGE_CODE='fr', "
                    f"LOCALE_PATHS=[{str(WWW / 'locale')!r}])\n")


@pytest.mark.parametrize("prelude, django_loaded", [("", False), (_CONFIGURED_ONLY, True)],
                         ids=["no Django", "Django configured, not set up"])
def test_without_django_the_verdicts_stay_english(tmp_path, prelude, django_loaded):
    """The worker and the CLI do not load Django: their words are English whatever the
    machine's language, and the site translates them when it shows them."""
    script = (prelude + "import sys\n"
              "from stechec.common import verdicts\n"
              f"print(verdicts.describe({OUT_OF_MEMORY!r}))\n"
              f"print(verdicts.usage({SEGFAULT!r}))\n"
              f"assert ('django' in sys.modules) == {django_loaded}\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120,
                          env={"LANG": "fr_FR.UTF-8", "LANGUAGE": "fr",
                               "PYTHONPATH": str(STECHEC.parent)})
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == ("stopped: used more than 512 MiB of memory\n"
                           "CPU 1.52 s, wall 3.10 s, peak memory 12 MiB\n")


def test_the_words_of_a_signal_no_catalogue_names_stay_strsignals():
    assert verdicts.describe({"ended": "signal", "signal": "SIGUSR1"}) == \
        "crashed: user defined signal 1 (SIGUSR1)"


def _setuid(info):
    info.mode = 0o4755
    info.size = 0


@pytest.mark.django_db
def test_archive_refusals_in_french(client):
    User.objects.create_user("alice", password="alice-password")
    client.force_login(User.objects.get(username="alice"))

    def refusal(data, **headers):
        return text(client.post(reverse("champion-new"), {
            "name": "mine", "sources": upload_file(data)}, **headers))

    setuid = make_tgz({"main.c": b"int x;\n", "tool": _setuid})
    assert ("Archive refusée\xa0: 'tool'\xa0: les fichiers avec le bit setuid ne sont pas "
            "acceptés (chmod ug-s, puis refaites l’archive).") in refusal(setuid, **FRENCH)
    assert "Archive refused: 'tool': files with the setuid bit are not accepted" in \
        refusal(setuid)
    assert ("Archive refusée\xa0: ce n’est pas une archive tar compressée par gzip"
            in refusal(b"not an archive", **FRENCH))


@pytest.mark.django_db
def test_a_bulk_account_refusal_in_french(client):
    User.objects.create_user("cat", password="cat-password")
    client.force_login(User.objects.create_user("orga", password="orga-password",
                                                is_staff=True))
    page = text(client.post(reverse("accounts-bulk"), {
        "accounts": SimpleUploadedFile("accounts.csv", b"username,email\ncat,cat@example.org\n"
                                       b"dog,not-an-address\n", "text/csv")}, **FRENCH))
    assert ("Rien n’a été créé\xa0: ligne 2\xa0: un compte nommé cat existe déjà\xa0; "
            "ligne 3\xa0: 'not-an-address' n’est pas une adresse e-mail.") in page
