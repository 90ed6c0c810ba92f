"""The Learn pages: how to write, package and read the results of a champion, the
game's own documentation, and the player environment to download. Open to every
visitor: they are what a newcomer reads before having an account."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from stechec.contest.models import Champion, Match
from stechec.www.contest import conf, learn


def learn_index(request):
    contest, website = conf.contest(), conf.website()
    return render(request, "stechec/learn.html", {
        "game": contest["game"], "nb_players": contest["nb_players"],
        "languages": [(language, learn.makefile_comment(language))
                      for language in learn.languages()],
        "documents": learn.game_docs(),
        "limits": {**contest, **website},
        "champion_statuses": Champion.Status.choices,
        "match_statuses": [(value, label) for value, label in Match.Status.choices
                           if value != Match.Status.CREATING],
    })


def learn_game_doc(request, slug):
    document = learn.render_game_doc(slug)
    if document is None:
        raise Http404(_("The game's documentation has no such page."))
    title, body = document
    return render(request, "stechec/learn_doc.html", {
        "title": title, "body": body, "documents": learn.game_docs(), "slug": slug})


def player_env_download(request, language):
    if language not in learn.languages():
        raise Http404(_("The player environment has no language %(language)s.")
                      % {"language": repr(language)})
    response = HttpResponse(learn.pack_language(language), content_type="application/gzip")
    response["Content-Disposition"] = (f'attachment; filename="{conf.contest()["game"]}-'
                                       f'{language}.tgz"')
    return response
