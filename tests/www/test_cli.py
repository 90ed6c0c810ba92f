"""The `stechec` command line against a live site: a real process talking HTTP to
pytest-django's live server, real uploads through the API.

The worker's part (compiling, playing) is played by the test writing the rows and files a
worker would, once the command shows it is waiting.
"""

import json
import os
import stat
import subprocess
import sys

import pytest

from stechec.common import paths
from stechec.contest.models import ApiToken, Champion, Match, Tournament
from stechec.www.api import tokens
from tests.www.helpers import (
    champion_file,
    finished_match,
    make_tgz,
    match_file,
    ready_champion,
    write_file,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Generous: a command's progress is awaited, never raced.
TIMEOUT_SECS = 120


@pytest.fixture
def config_home(tmp_path):
    return tmp_path / "config"


def command(config_home, *args):
    return [sys.executable, "-m", "stechec.cli", *map(str, args)]


def environment(config_home):
    return dict(os.environ, XDG_CONFIG_HOME=str(config_home), STECHEC_TOKEN="")


def stechec(config_home, *args):
    return subprocess.run(command(config_home, *args), env=environment(config_home),
                          capture_output=True, text=True, timeout=TIMEOUT_SECS)


@pytest.fixture
def logged_in(live_server, alice, config_home):
    _, token = tokens.create(alice, "cli", ["read", "submit"])
    done = stechec(config_home, "login", live_server.url, "--token", token)
    assert done.returncode == 0, done.stderr
    return config_home


def test_login_keeps_the_token_for_the_user_alone(live_server, alice, config_home):
    _, token = tokens.create(alice, "cli", ["read"])

    refused = stechec(config_home, "login", live_server.url, "--token", "stc_wrong")
    assert refused.returncode == 1
    assert "This token is unknown or was revoked. [HTTP 401]" in refused.stderr
    assert not (config_home / "stechec").exists()

    done = stechec(config_home, "login", live_server.url, "--token", token)

    saved = config_home / "stechec" / "config.json"
    assert done.returncode == 0 and str(saved) in done.stdout
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": live_server.url, "token": token}


def test_login_with_a_password_makes_a_token(live_server, alice, config_home):
    wrong = subprocess.run(command(config_home, "login", live_server.url, "--username",
                                   "alice"), input="not-her-password\n",
                           env=environment(config_home), capture_output=True, text=True,
                           timeout=TIMEOUT_SECS)
    assert wrong.returncode == 1 and "[HTTP 401]" in wrong.stderr
    assert not ApiToken.objects.exists()

    done = subprocess.run(command(config_home, "login", live_server.url, "--username",
                                  "alice"), input="alice-password\n",
                          env=environment(config_home), capture_output=True, text=True,
                          timeout=TIMEOUT_SECS)

    assert done.returncode == 0, done.stderr
    row = ApiToken.objects.get()
    assert (row.user, row.scope_set) == (alice, {"read", "submit"})
    saved = json.loads((config_home / "stechec" / "config.json").read_text())
    assert tokens.digest(saved["token"]) == row.digest


def test_a_command_before_login_says_what_to_do(config_home, db):
    done = stechec(config_home, "champions")
    assert done.returncode == 1
    assert "Not logged in: run `stechec login URL` first." in done.stderr


def test_upload_waits_for_the_compilation_and_shows_the_log_when_it_fails(logged_in, alice,
                                                                          site, tmp_path):
    archive = tmp_path / "champion.tgz"
    archive.write_bytes(make_tgz({"main.c": b"int main(void) { return 0 }\n"}))
    running = subprocess.Popen(command(logged_in, "upload", archive, "--name", "first",
                                       "--wait"),
                               env=environment(logged_in), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    # Not a terminal: one plain line per status.
    assert running.stdout.readline().startswith("Champion ")
    assert running.stdout.readline().endswith(": new\n")
    champion = Champion.objects.get()
    assert (champion.name, champion.author) == ("first", alice)
    assert open(champion_file(site, champion, paths.CHAMPION_SOURCES), "rb").read() \
        == archive.read_bytes()

    # What a worker leaves after a failed compilation.
    write_file(f"{paths.published(champion_file(site, champion, ''))}/"
               f"{paths.COMPILATION_LOG}", "main.c:1: expected ';'\n")
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.ERROR)
    out, err = running.communicate(timeout=TIMEOUT_SECS)

    assert running.returncode == 1
    assert "main.c:1: expected ';'" in out
    assert f"Champion {champion.pk}: error." in err


def test_a_rate_limited_upload_says_when_to_retry(logged_in, site, tmp_path):
    site["website"]["uploads_per_minute"] = 1
    archive = tmp_path / "champion.tgz"
    archive.write_bytes(make_tgz())
    assert stechec(logged_in, "upload", archive).returncode == 0

    done = stechec(logged_in, "upload", archive)

    assert done.returncode == 1
    assert "the limit is 1 a minute" in done.stderr
    assert "(retry in " in done.stderr and "[HTTP 429]" in done.stderr


def test_a_match_by_player_name_waits_for_the_scores(logged_in, alice, bob):
    mine = ready_champion(alice, "mine")
    theirs = ready_champion(bob, "theirs")
    running = subprocess.Popen(command(logged_in, "match", mine.pk, "bob", "--wait"),
                               env=environment(logged_in), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert running.stdout.readline().startswith("Match ")
    match = Match.objects.get()
    assert [p.champion for p in match.players.order_by("id")] == [mine, theirs]

    for player, score in zip(match.players.order_by("id"), (3, 1), strict=True):
        player.score = score
        player.save()
    Match.objects.filter(pk=match.pk).update(status=Match.Status.DONE)
    out, err = running.communicate(timeout=TIMEOUT_SECS)

    assert running.returncode == 0, err
    assert f"alice/mine (#{mine.pk}): 3" in out and f"bob/theirs (#{theirs.pk}): 1" in out


def test_listings_as_json(logged_in, alice, bob):
    mine = ready_champion(alice, "mine", rating=3.5, rated_games=2)
    ready_champion(bob, "theirs")
    match = finished_match(alice, [mine, mine])

    champions = json.loads(stechec(logged_in, "champions", "--json").stdout)
    assert [c["name"] for c in champions] == ["mine"]
    everyone = json.loads(stechec(logged_in, "champions", "--all", "--json").stdout)
    assert sorted(c["name"] for c in everyone) == ["mine", "theirs"]
    matches = json.loads(stechec(logged_in, "matches", "--mine", "--json").stdout)
    assert [m["id"] for m in matches] == [match.pk]
    board = json.loads(stechec(logged_in, "leaderboard", "--json").stdout)
    assert [(row["rank"], row["name"]) for row in board] == [(1, "mine")]
    table = stechec(logged_in, "leaderboard").stdout
    assert "mine" in table and "3.50" in table


def test_logs_and_download_resume(logged_in, alice, bob, site, tmp_path):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    match = finished_match(alice, [mine, theirs])
    outputs = paths.published(match_file(site, match, ""))
    mine_player, their_player = match.players.order_by("id")
    write_file(f"{outputs}/{paths.SERVER_LOG}", "server says hi\n")
    write_file(f"{outputs}/{paths.DUMP}", b"dump bytes")
    write_file(f"{outputs}/{paths.REPLAY}", b"replay bytes")
    write_file(f"{outputs}/{mine_player.log_name()}", "my champion's log\n")

    assert stechec(logged_in, "logs", match.pk).stdout == "server says hi\n"
    assert stechec(logged_in, "logs", match.pk, "--player",
                   mine_player.pk).stdout == "my champion's log\n"
    refused = stechec(logged_in, "logs", match.pk, "--player", their_player.pk)
    assert "Only the champion's author can see its log. [HTTP 403]" in refused.stderr

    target = tmp_path / "out"
    done = stechec(logged_in, "download", match.pk, target)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(target)) == sorted([
        f"match-{match.pk}-replay", f"match-{match.pk}-dump.json.gz",
        f"match-{match.pk}-server.log", f"match-{match.pk}-player-{mine_player.pk}.log"])
    assert (target / f"match-{match.pk}-dump.json.gz").read_bytes() == b"dump bytes"

    again = stechec(logged_in, "download", match.pk, target, "--replay")
    assert again.stdout == f"{target / f'match-{match.pk}-replay'}: already there\n"


def test_the_command_line_imports_nothing_of_django():
    done = subprocess.run([sys.executable, "-c", (
        "import sys, stechec.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")],
        capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_staff_create_launch_and_read_a_tournament(live_server, staff, alice, bob,
                                                    config_home):
    champions = [ready_champion(alice).pk, ready_champion(bob).pk]
    _, token = tokens.create(staff, "cli", ["read", "staff"])
    assert stechec(config_home, "login", live_server.url, "--token", token).returncode == 0

    created = stechec(config_home, "tournament", "create", "cup", "--no-launch",
                      *[f"--champion={pk}" for pk in champions])
    assert created.returncode == 0, created.stderr
    tournament = Tournament.objects.get()
    assert created.stdout == f"Tournament {tournament.pk} (cup): created.\n"
    launched = stechec(config_home, "tournament", "launch", tournament.pk)
    assert launched.stdout == f"Tournament {tournament.pk} (cup): running.\n"
    again = stechec(config_home, "tournament", "launch", tournament.pk)
    assert again.returncode == 1 and "[HTTP 400]" in again.stderr

    standings = json.loads(stechec(config_home, "tournament", "standings", tournament.pk,
                                   "--json").stdout)
    assert sorted(row["champion"] for row in standings) == sorted(champions)


def test_a_tournaments_finished_matches_in_bulk(logged_in, alice, bob, site, tmp_path):
    cup = Tournament.objects.create(name="cup")
    mine, theirs = ready_champion(alice), ready_champion(bob)
    done = [finished_match(None, [mine, theirs], tournament=cup) for _ in range(2)]
    Match.launch([mine, theirs], tournament=cup)  # still waiting: nothing to fetch
    for match in done:
        write_file(f"{paths.published(match_file(site, match, ''))}/{paths.REPLAY}",
                   f"replay of {match.pk}")

    target = tmp_path / "cup"
    fetched = stechec(logged_in, "download", "--tournament", cup.pk, "--replay", target)

    assert fetched.returncode == 0, fetched.stderr
    assert sorted(os.listdir(target)) == sorted(f"match-{m.pk}-replay" for m in done)
    assert stechec(logged_in, "download", "--tournament", cup.pk, "1",
                   target).returncode == 2


def test_commands_that_make_something_print_it_as_json(live_server, staff, alice, bob,
                                                        config_home, tmp_path):
    _, token = tokens.create(staff, "cli", ["read", "submit", "staff"])
    assert stechec(config_home, "login", live_server.url, "--token", token).returncode == 0
    archive = tmp_path / "champion.tgz"
    archive.write_bytes(make_tgz())

    # --wait's progress goes to stderr: stdout holds the JSON alone.
    running = subprocess.Popen(command(config_home, "upload", archive, "--name", "mine",
                                       "--wait", "--json"),
                               env=environment(config_home), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert running.stderr.readline().endswith(": new\n")
    champion = Champion.objects.get()
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.READY)
    out, err = running.communicate(timeout=TIMEOUT_SECS)
    assert running.returncode == 0, err
    uploaded = json.loads(out)
    assert (uploaded["id"], uploaded["name"], uploaded["status"]) == (champion.pk, "mine",
                                                                      "ready")

    theirs = ready_champion(bob, "theirs")
    launched = stechec(config_home, "match", champion.pk, theirs.pk, "--json")
    assert launched.returncode == 0, launched.stderr
    match = json.loads(launched.stdout)
    assert match["id"] == Match.objects.get().pk
    assert [p["champion"] for p in match["players"]] == [champion.pk, theirs.pk]

    created = stechec(config_home, "tournament", "create", "cup", "--no-launch", "--json",
                      f"--champion={champion.pk}", f"--champion={theirs.pk}")
    assert created.returncode == 0, created.stderr
    tournament = Tournament.objects.get()
    assert json.loads(created.stdout) | {"ts": None} == {
        "id": tournament.pk, "name": "cup", "format": "round_robin", "status": "created",
        "ts": None}
    launched = stechec(config_home, "tournament", "launch", tournament.pk, "--json")
    assert launched.returncode == 0, launched.stderr
    assert (json.loads(launched.stdout)["id"], json.loads(launched.stdout)["status"]) == (
        tournament.pk, "running")
