"""The `stechec` commands (docs/cli.md)."""

import json
import os
import socket
import subprocess
import sys
import time

import click
from rich.console import Console
from rich.table import Table

from stechec.cli import config
from stechec.cli.client import ApiError, Client

# How often --wait asks, and for how long at most by default.
POLL_SECS = 1.0
WAIT_SECS = 1800
CHAMPION_IN_PROGRESS = ("new", "pending")
MATCH_IN_PROGRESS = ("creating", "new", "pending")

console = Console()


def _client():
    saved = config.load()
    return Client(saved["url"], saved["token"])


def _show(rows, columns, as_json):
    """A listing: a table on a terminal (plain columns otherwise), or JSON."""
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def _said(thing, as_json, sentence):
    """What a command did: the API's answer (a champion, a match, a tournament) as JSON, or
    a sentence."""
    click.echo(json.dumps(thing, indent=2) if as_json else sentence)


def _cell(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _wait(fetch, in_progress, what, timeout, as_json=False):
    """Poll `fetch()` until its status is final: a spinner on a terminal, one line per
    status change otherwise (on stderr with --json, which leaves stdout to the JSON).
    Returns the final object."""
    deadline = time.monotonic() + timeout
    current = fetch()
    shown = None

    def report(status):
        nonlocal shown
        if status != shown and not console.is_terminal:
            click.echo(f"{what}: {status}", err=as_json)
        shown = status

    with console.status(f"{what}: {current['status']}") as spinner:
        while current["status"] in in_progress:
            report(current["status"])
            spinner.update(f"{what}: {current['status']}")
            if time.monotonic() > deadline:
                raise click.ClickException(f"{what} is still {current['status']} after "
                                           f"{timeout} s.")
            time.sleep(POLL_SECS)
            current = fetch()
    report(current["status"])
    return current


@click.group()
@click.version_option(package_name="stechec2-server", prog_name="stechec")
def main():
    """The contest site from the command line: upload champions, launch matches, read
    their results. Start with `stechec login URL`."""


@main.command()
@click.argument("url")
@click.option("--token", envvar="STECHEC_TOKEN",
              help="A personal API token (made on your account page); asked if not given.")
@click.option("--username", help="Make a token with your user name and password (asked) "
              "rather than pasting one.")
def login(url, token, username):
    """Remember the site at URL and your API token (in your config directory, mode 0600)."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http:// or https:// address.",
                                 param_hint="URL")
    if username:
        password = click.prompt(f"Password of {username}", hide_input=True)
        made = Client(url, basic=(username, password)).post("tokens/", {
            "name": f"stechec on {socket.gethostname()}"[:100],
            "scopes": ["read", "submit"]})
        token = made["token"]
        click.echo(f"Token {made['name']!r} made (revoke it on your account page).")
    token = token or click.prompt("API token (from your account page on the site)",
                                  hide_input=True)
    client = Client(url, token.strip())
    client.get("champions/", mine=1)
    config.save(client.url, client.token)
    click.echo(f"Logged in to {client.url}; saved in {config.path()}.")


def _archive(source):
    """The archive to upload: the file given, or a player-environment folder packed by its
    own `make tar` (as the player would)."""
    if os.path.isfile(source):
        return source
    if not os.path.isfile(os.path.join(source, "Makefile")):
        raise click.BadParameter(f"{source} is neither a .tgz file nor a player-environment "
                                 f"folder (no Makefile in it).", param_hint="SOURCE")
    done = subprocess.run(["make", "-C", source, "tar"], capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"`make tar` failed in {source}:\n{done.stdout}{done.stderr}")
    return os.path.join(source, "champion.tgz")


@main.command()
@click.argument("source", default=".", type=click.Path(exists=True))
@click.option("--name", help="The champion's name (default: the folder's or file's).")
@click.option("--comment", default="")
@click.option("--wait", is_flag=True, help="Wait for the compilation; exit 1 if it fails.")
@click.option("--timeout", default=WAIT_SECS, show_default=True, help="Seconds --wait waits.")
@click.option("--json", "as_json", is_flag=True, help="Print the champion (once compiled "
              "with --wait) as the API gives it.")
def upload(source, name, comment, wait, timeout, as_json):
    """Upload a champion: SOURCE is a champion.tgz or a player-environment folder."""
    path = _archive(source)
    name = name or os.path.basename(os.path.abspath(source if os.path.isdir(source) else
                                                    os.path.dirname(path) or "."))
    client = _client()
    with open(path, "rb") as f:
        champion = client.upload("champions/", {"name": name, "comment": comment}, "sources",
                                 "champion.tgz", f.read())
    uploaded = f"Champion {champion['id']} ({champion['name']}) uploaded: {champion['status']}."
    if not wait:
        _said(champion, as_json, uploaded)
        return
    if not as_json:
        click.echo(uploaded)
    champion = _wait(lambda: client.get(f"champions/{champion['id']}/"), CHAMPION_IN_PROGRESS,
                     f"champion {champion['id']}", timeout, as_json)
    ready = champion["status"] == "ready"
    _said(champion, as_json, f"Champion {champion['id']} is ready." if ready
          else champion.get("compile_log") or "(no compile log)")
    if not ready:
        raise click.ClickException(f"Champion {champion['id']}: {champion['status']}.")


@main.command()
@click.option("--all", "everyone", is_flag=True, help="Every player's, not only yours.")
@click.option("--json", "as_json", is_flag=True)
def champions(everyone, as_json):
    """Your champions (newest first)."""
    rows = list(_client().every("champions/", mine=None if everyone else 1))
    _show(rows, ["id", "name", "author", "status", "language", "rating", "ts"], as_json)


def _match_row(match):
    """A match with its players in one column: "alice/sly (2) vs bob/ace (0)"."""
    players = " vs ".join(f"{p['author']}/{p['champion_name']}"
                          + ("" if p["score"] is None else f" ({p['score']})")
                          for p in match["players"])
    return {**match, "players": players}


@main.command()
@click.option("--mine", is_flag=True, help="Only the matches you launched.")
@click.option("--champion", type=int, help="Only this champion's matches.")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True)
def matches(mine, champion, limit, as_json):
    """Matches, newest first."""
    rows = []
    for match in _client().every("matches/", mine=1 if mine else None, champion=champion):
        rows.append(match)
        if len(rows) >= limit:
            break
    _show(rows if as_json else [_match_row(m) for m in rows],
          ["id", "status", "author", "players", "ts"], as_json)


@main.command()
@click.argument("champions", nargs=-1, required=True)
@click.option("--map", "map_id", type=int, help="The map's number (see the site's maps).")
@click.option("--wait", is_flag=True, help="Wait for the match to end and show the scores.")
@click.option("--timeout", default=WAIT_SECS, show_default=True, help="Seconds --wait waits.")
@click.option("--json", "as_json", is_flag=True, help="Print the match (once ended with "
              "--wait) as the API gives it.")
def match(champions, map_id, wait, timeout, as_json):
    """Launch a match: CHAMPIONS in seat order, each a champion's number, a player's name
    (their latest ready champion) or player/champion."""
    client = _client()
    launched = client.post("matches/", {
        "champions": [int(c) if c.isdecimal() else c for c in champions], "map": map_id})
    sentence = f"Match {launched['id']} launched: {launched['status']}."
    if not wait:
        _said(launched, as_json, sentence)
        return
    if not as_json:
        click.echo(sentence)
    done = _wait(lambda: client.get(f"matches/{launched['id']}/"), MATCH_IN_PROGRESS,
                 f"match {launched['id']}", timeout, as_json)
    if as_json:
        click.echo(json.dumps(done, indent=2))
    else:
        for player in done["players"]:
            click.echo(f"  {player['author']}/{player['champion_name']} "
                       f"(#{player['champion']}): {player['score']}")
    if done["status"] != "done":
        raise click.ClickException(f"Match {done['id']}: {done['status']}.")


@main.command()
@click.argument("match_id", metavar="MATCH", type=int)
@click.option("--player", type=int, help="This player's log (its match player number, "
              "`stechec matches --json` lists them) rather than the server's.")
def logs(match_id, player):
    """A match's server log, or one of its players' logs."""
    path = (f"matches/{match_id}/log/" if player is None
            else f"matches/{match_id}/players/{player}/log/")
    click.echo(_client().text(path), nl=False)


@main.command()
@click.argument("targets", metavar="[MATCH] DIRECTORY", nargs=-1, required=True)
@click.option("--tournament", type=int, help="Every finished match of this tournament "
              "rather than one match.")
@click.option("--replay", is_flag=True)
@click.option("--dump", is_flag=True)
@click.option("--logs", "with_logs", is_flag=True, help="The server's log and the logs of "
              "your champions.")
def download(targets, tournament, replay, dump, with_logs):
    """Save a match's outputs (or a tournament's matches') in DIRECTORY, all of them when
    none is named; files already there are kept, so a second run resumes."""
    if tournament is None and (len(targets) != 2 or not targets[0].isdecimal()):
        raise click.UsageError("Give a match's number and a directory, or --tournament T "
                               "and a directory.")
    if tournament is not None and len(targets) != 1:
        raise click.UsageError("With --tournament, give only the directory.")
    directory = targets[-1]
    match_id = int(targets[0]) if tournament is None else None
    client = _client()
    kinds = {"replay": replay, "dump": dump, "logs": with_logs}
    if not any(kinds.values()):
        kinds = dict.fromkeys(kinds, True)
    ids = ([match_id] if tournament is None else
           [m["id"] for m in client.every("matches/", tournament=tournament, status="done")])
    os.makedirs(directory, exist_ok=True)
    failed = False
    for match in ids:
        for path, name in _outputs(client, match, kinds):
            destination = os.path.join(directory, name)
            if os.path.exists(destination):
                click.echo(f"{destination}: already there")
                continue
            try:
                client.download(path, destination)
            except ApiError as e:
                click.echo(f"{name}: {e.message}", err=True)
                failed = True
            else:
                click.echo(destination)
    if failed:
        sys.exit(1)


def _outputs(client, match_id, kinds):
    """(API path, file name) of the outputs of `match_id` that `kinds` names."""
    wanted = []
    if kinds["replay"]:
        wanted.append((f"matches/{match_id}/replay/", f"match-{match_id}-replay"))
    if kinds["dump"]:
        wanted.append((f"matches/{match_id}/dump/", f"match-{match_id}-dump.json.gz"))
    if kinds["logs"]:
        wanted.append((f"matches/{match_id}/log/", f"match-{match_id}-server.log"))
        for player in client.get(f"matches/{match_id}/")["players"]:
            if player["log_readable"]:
                wanted.append((f"matches/{match_id}/players/{player['id']}/log/",
                               f"match-{match_id}-player-{player['id']}.log"))
    return wanted


@main.command()
@click.option("--json", "as_json", is_flag=True)
def leaderboard(as_json):
    """Each player's best rated champion, best first."""
    rows = _client().get("leaderboard/")
    _show([{"rank": n, **row} for n, row in enumerate(rows, 1)],
          ["rank", "author", "name", "champion", "rating", "rated_games"], as_json)


@main.group()
def tournament():
    """Tournaments: standings for anyone; create and launch for organisers (a token
    with the staff scope)."""


@tournament.command("create")
@click.argument("name")
@click.option("--format", "tournament_format", default="round_robin", show_default=True,
              help="round_robin, swiss or single_elimination.")
@click.option("--champion", "champions", type=int, multiple=True,
              help="A champion's number (repeat it); none: each player's latest ready one.")
@click.option("--map", "maps", type=int, multiple=True, help="A map's number (repeat it).")
@click.option("--rounds", type=int, default=0, help="Swiss only: how many rounds.")
@click.option("--launch/--no-launch", default=True, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the tournament as the API "
              "gives it.")
def tournament_create(name, tournament_format, champions, maps, rounds, launch, as_json):
    """Create the tournament NAME (and launch it, unless --no-launch)."""
    created = _client().post("tournaments/", {
        "name": name, "format": tournament_format, "champions": list(champions),
        "maps": list(maps), "rounds": rounds, "launch": launch})
    _said(created, as_json, f"Tournament {created['id']} ({created['name']}): "
                            f"{created['status']}.")


@tournament.command("launch")
@click.argument("tournament_id", metavar="TOURNAMENT", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the tournament as the API "
              "gives it.")
def tournament_launch(tournament_id, as_json):
    """Launch a created tournament: its matches are queued."""
    launched = _client().post(f"tournaments/{tournament_id}/launch/", {})
    _said(launched, as_json, f"Tournament {launched['id']} ({launched['name']}): "
                             f"{launched['status']}.")


@tournament.command("standings")
@click.argument("tournament_id", metavar="TOURNAMENT", type=int)
@click.option("--json", "as_json", is_flag=True)
def tournament_standings(tournament_id, as_json):
    """A tournament's standings, best first."""
    rows = _client().get(f"tournaments/{tournament_id}/standings/")
    _show(rows, ["rank", "name", "points", "score", "played", "wins", "draws", "losses"],
          as_json)
