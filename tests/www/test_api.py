"""The players' API: tokens, what each endpoint answers, public results, the schema."""

import base64
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from stechec.common import paths, verdicts
from stechec.contest.models import ApiToken, Champion, Match, MatchPlayer, Tournament
from stechec.www.api import tokens
from tests.www.api_helpers import token_client
from tests.www.helpers import (
    champion_file,
    finished_match,
    make_tgz,
    ready_champion,
    text,
    upload_file,
    write_file,
)

pytestmark = pytest.mark.django_db


def bearer(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_is_stored_hashed_and_works_until_revoked(alice):
    row, token = tokens.create(alice, "laptop", ["read"])

    assert token.startswith("stc_") and token not in json.dumps(
        list(ApiToken.objects.values()), default=str)
    assert row.digest == tokens.digest(token) and row.last_used is None
    assert bearer(token).get(reverse("api-champions")).status_code == 200
    row.refresh_from_db()
    assert row.last_used is not None

    assert tokens.revoke(alice, row.pk)
    answer = bearer(token).get(reverse("api-champions"))
    assert answer.status_code == 401
    assert answer.json()["detail"] == "This token is unknown or was revoked."


def test_a_token_does_only_what_its_scopes_allow(alice, staff, site):
    read_only = token_client(alice, ["read"])
    answer = read_only.post(reverse("api-champions"), {"name": "x",
                                                       "sources": upload_file(make_tgz())})
    assert answer.status_code == 403
    assert answer.json()["detail"] == "This token lacks the submit scope."
    assert not Champion.objects.exists()

    with pytest.raises(tokens.BadToken, match="Only organisers' accounts"):
        tokens.create(alice, "sneaky", ["read", "staff"])
    with pytest.raises(tokens.BadToken, match="scopes are some of read, submit, staff; got reed"):
        tokens.create(alice, "typo", ["reed"])
    assert token_client(alice).get(reverse("api-cluster")).status_code == 403
    # Staff without the staff scope: the token bounds what the account may do.
    answer = token_client(staff, ["read"]).get(reverse("api-cluster"))
    assert answer.json()["detail"] == "This token lacks the staff scope."


def test_the_browsers_session_works_too(alice_client, alice):
    ready_champion(alice, "mine")
    answer = alice_client.get(reverse("api-champions") + "?mine=1")
    assert [c["name"] for c in answer.json()["results"]] == ["mine"]


def test_upload_then_detail_with_compile_log_sources_and_delete(alice, site):
    api = token_client(alice)
    archive = make_tgz()
    created = api.post(reverse("api-champions"), {"name": "first", "comment": "hi",
                                                  "sources": upload_file(archive)})
    assert created.status_code == 201
    champion = Champion.objects.get()
    assert (created.json()["id"], created.json()["status"]) == (champion.pk, "new")

    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.ERROR)
    write_file(paths.published(champion_file(site, champion, "")) + "/"
               + paths.COMPILATION_LOG, "main.c:1: error\n")
    detail = api.get(reverse("api-champion", args=[champion.pk])).json()
    assert (detail["status"], detail["compile_log"]) == ("error", "main.c:1: error\n")
    sources = api.get(reverse("api-champion-sources", args=[champion.pk]))
    assert b"".join(sources.streaming_content) == archive

    assert api.delete(reverse("api-champion", args=[champion.pk])).status_code == 204
    assert Champion.objects.get().deleted
    assert api.get(reverse("api-champions")).json()["results"] == []


def test_a_match_by_champion_number_and_by_player_name(alice, bob, site):
    mine = ready_champion(alice, "mine")
    ready_champion(bob, "old")
    latest = ready_champion(bob, "latest")
    api = token_client(alice)

    answer = api.post(reverse("api-matches"), json.dumps({"champions": [mine.pk, "bob"]}),
                      content_type="application/json")

    assert answer.status_code == 201, answer.content
    match = Match.objects.get()
    assert [p["champion"] for p in answer.json()["players"]] == [mine.pk, latest.pk]
    assert (match.author, match.status) == (alice, "new")
    mine_listed = api.get(reverse("api-matches") + "?mine=1").json()["results"]
    assert [m["id"] for m in mine_listed] == [match.pk]
    by_champion = api.get(reverse("api-matches") + f"?champion={latest.pk}").json()
    assert [m["id"] for m in by_champion["results"]] == [match.pk]
    assert api.get(reverse("api-matches") + "?champion=x").status_code == 400

    wrong = api.post(reverse("api-matches"), json.dumps({"champions": [mine.pk]}),
                     content_type="application/json")
    assert wrong.json() == {"champions": "A match has 2 champions, one a seat."}


def test_public_results_hold_for_the_api(alice, bob, site):
    tournament_match = finished_match(alice, [ready_champion(alice), ready_champion(bob)])
    friendly = finished_match(alice, [ready_champion(alice), ready_champion(bob)])
    Match.objects.filter(pk=tournament_match.pk).update(
        tournament=Tournament.objects.create(name="cup"))
    visitor = Client()

    site["website"]["public_results"] = False
    for name in ("api-leaderboard", "api-tournaments", "api-matches", "api-champions"):
        assert visitor.get(reverse(name)).status_code == 401, name

    site["website"]["public_results"] = True
    assert visitor.get(reverse("api-leaderboard")).status_code == 200
    listed = visitor.get(reverse("api-matches")).json()["results"]
    assert [m["id"] for m in listed] == [tournament_match.pk]
    assert visitor.get(reverse("api-match", args=[friendly.pk])).status_code == 401
    assert visitor.get(reverse("api-match", args=[tournament_match.pk])).status_code == 200
    # Sources and logs stay with their authors whatever the setting.
    assert visitor.get(reverse("api-champions")).status_code == 401
    assert visitor.get(reverse("api-match-log", args=[tournament_match.pk])).status_code == 401


def test_lists_are_paged_as_the_sites_without_counting(alice, site):
    site["website"]["page_size"] = 2
    for n in range(5):
        ready_champion(alice, f"c{n}")
    api = token_client(alice)
    first = api.get(reverse("api-champions")).json()
    assert [c["name"] for c in first["results"]] == ["c4", "c3"]
    assert first["previous"] is None and first["next"].endswith("/api/v1/champions/?page=2")
    last = api.get(reverse("api-champions") + "?page=3").json()
    assert [c["name"] for c in last["results"]] == ["c0"] and last["next"] is None
    assert last["previous"].endswith("?page=2")
    assert "count" not in last


def test_the_schema_is_valid_openapi_3():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/champions/" in schema["paths"]
    components = schema["components"]["schemas"]
    assert {"verdict", "verdict_words"} <= set(components["MatchPlayer"]["properties"])
    assert {"compile_verdict", "compile_verdict_words"} <= set(
        components["ChampionDetail"]["properties"])


def test_the_schema_and_docs_are_served_from_the_site_alone():
    visitor = Client()
    assert visitor.get(reverse("api-schema")).status_code == 200
    docs = visitor.get(reverse("api-docs"))
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_tokens_are_created_shown_once_listed_and_revoked_on_the_account_page(alice_client,
                                                                             alice):
    page = alice_client.post(reverse("token-new"), {"name": "laptop", "scopes": ["read"]})
    token = re.search(r'<code class="new-token">(stc_[^<]+)</code>', page.content.decode())[1]
    assert "no-cache" in page["Cache-Control"]
    assert bearer(token).get(reverse("api-champions")).status_code == 200

    listed = text(alice_client.get(reverse("account")))
    assert "laptop" in listed and token not in listed and token[:8] in listed

    refused = text(alice_client.post(reverse("token-new"), {"name": "x",
                                                           "scopes": ["staff"]}))
    assert "Select a valid choice. staff is not one of the available choices." in refused
    assert ApiToken.objects.count() == 1

    row = ApiToken.objects.get()
    assert alice_client.post(reverse("token-revoke", args=[row.pk])).status_code == 302
    assert bearer(token).get(reverse("api-champions")).status_code == 401


def test_staff_create_and_launch_tournaments(staff, alice, bob, site):
    champions = [ready_champion(alice).pk, ready_champion(bob).pk]
    api = token_client(staff, ["read", "staff"])

    created = api.post(reverse("api-tournaments"), json.dumps({
        "name": "cup", "format": "round_robin", "champions": champions, "launch": False}),
        content_type="application/json")

    assert created.status_code == 201, created.content
    tournament = Tournament.objects.get()
    assert (created.json()["status"], tournament.status) == ("created", "created")
    launched = api.post(reverse("api-tournament-launch", args=[tournament.pk]))
    assert launched.json()["status"] == "running"
    assert Match.objects.filter(tournament=tournament).count() > 0
    again = api.post(reverse("api-tournament-launch", args=[tournament.pk]))
    assert again.status_code == 400 and "already" in again.json()["detail"]

    standings = api.get(reverse("api-tournament-standings", args=[tournament.pk])).json()
    assert sorted(row["champion"] for row in standings) == sorted(champions)
    matrix = api.get(reverse("api-tournament-matrix", args=[tournament.pk])).json()
    assert [row["champion"] for row in matrix] == [row["champion"] for row in standings]
    assert [row["points"][n] for n, row in enumerate(matrix)] == [None, None]
    Match.objects.filter(tournament=tournament).update(status=Match.Status.FAILED)
    rerun = api.post(reverse("api-tournament-rerun-failed", args=[tournament.pk]))
    assert rerun.json() == {"queued": Match.objects.filter(tournament=tournament).count()}
    # A player's submit scope does not reach the organisers' actions.
    refused = token_client(alice).post(reverse("api-tournaments"), json.dumps({
        "name": "mine", "format": "round_robin"}), content_type="application/json")
    assert refused.status_code == 403


def test_a_token_from_a_password_but_not_from_a_token(alice):
    made = Client().post(reverse("api-tokens"), json.dumps({"name": "cli", "scopes": ["read"]}),
                         content_type="application/json",
                         HTTP_AUTHORIZATION="Basic " + base64.b64encode(
                             b"alice:alice-password").decode())
    assert made.status_code == 201
    assert tokens.digest(made.json()["token"]) == ApiToken.objects.get().digest

    # A read token cannot make itself a submit one.
    widened = token_client(alice, ["read"]).post(
        reverse("api-tokens"), json.dumps({"name": "more", "scopes": ["read", "submit"]}),
        content_type="application/json")
    assert widened.status_code == 401
    assert ApiToken.objects.filter(name="more").count() == 0


def test_a_champions_rating_history_oldest_first(alice, bob):
    mine = ready_champion(alice)
    first = finished_match(alice, [mine, ready_champion(bob)], rated_seq=1)
    second = finished_match(alice, [mine, ready_champion(bob)], rated_seq=2)
    for match, mu in ((first, 27.0), (second, 29.0)):
        match.players.filter(champion=mine).update(rating_mu=mu, rating_sigma=6.0)

    history = token_client(alice).get(reverse("api-champion-rating", args=[mine.pk])).json()

    assert [(point["match"], point["mu"], point["rating"]) for point in history] == [
        (first.pk, 27.0, 9.0), (second.pk, 29.0, 11.0)]


def test_a_match_without_an_author_is_listed_and_shown(alice, bob):
    # The ladder's and tournaments' matches have no author.
    match = finished_match(None, [ready_champion(alice), ready_champion(bob)], ladder=True)
    api = token_client(alice)
    listed = api.get(reverse("api-matches")).json()["results"]
    assert [(m["id"], m["author"], len(m["players"])) for m in listed] == [(match.pk, None, 2)]
    assert api.get(reverse("api-match", args=[match.pk])).json()["author"] is None


BUILD_TOO_SLOW = {"ended": "limit", "exit_status": None, "signal": "SIGKILL", "limit": "cpu",
                  "limit_value": "120 s", "cpu_ms": 120300, "wall_ms": 130000,
                  "peak_memory_kib": 300 * 1024, "memory_from": "cgroup"}
CRASHED = {"ended": "signal", "exit_status": None, "signal": "SIGSEGV", "limit": "",
           "limit_value": "", "cpu_ms": 20, "wall_ms": 300, "peak_memory_kib": 9 * 1024,
           "memory_from": "cgroup"}
EXITED = dict(CRASHED, ended="exit", exit_status=0, signal="")


def test_the_compile_verdict_is_for_the_author_and_staff(alice, bob, staff):
    champion = ready_champion(alice)
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.ERROR,
                                                   compile_verdict=BUILD_TOO_SLOW)
    url = reverse("api-champion", args=[champion.pk])
    for reader in (alice, staff):
        detail = token_client(reader).get(url).json()
        assert detail["compile_verdict"] == BUILD_TOO_SLOW, reader
        assert detail["compile_verdict_words"] == "stopped: used more than 120 s of CPU time"
    detail = token_client(bob).get(url).json()
    assert (detail["compile_verdict"], detail["compile_verdict_words"]) == (None, None)


def test_each_players_verdict_is_for_its_author_and_staff(alice, bob, staff):
    match = finished_match(alice, [ready_champion(alice, "mine"), ready_champion(bob, "his")])
    mine, his = match.players.order_by("id")
    MatchPlayer.objects.filter(pk=mine.pk).update(verdict=EXITED)
    MatchPlayer.objects.filter(pk=his.pk).update(verdict=CRASHED)
    url = reverse("api-match", args=[match.pk])

    def seen_by(reader):
        return [(p["verdict"], p["verdict_words"])
                for p in token_client(reader).get(url).json()["players"]]

    exited, crashed = (EXITED, "finished normally"), (CRASHED, verdicts.describe(CRASHED))
    assert crashed[1].startswith("crashed: segmentation fault")
    assert seen_by(alice) == [exited, (None, None)]
    assert seen_by(bob) == [(None, None), crashed]
    assert seen_by(staff) == [exited, crashed]
