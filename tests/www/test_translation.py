"""Every text of the site goes through Django's translation machinery, and
the French catalogue translates all of it."""

import datetime
import pathlib
import re
import subprocess

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.conftest import require_tool
from tests.www.helpers import ready_champion, text

WWW = pathlib.Path(__file__).resolve().parents[2] / "stechec" / "www"
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
