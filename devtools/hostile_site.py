"""Hostile use of the website: bad forms and uploads, HTML in names, other users' files.

`SiteClient` is a browser without JavaScript (cookies, CSRF token,
multipart uploads, redirects not followed). The attacks tally a 5xx as a
crash, a bad form accepted (a redirect, or any change to the database or
the shared directory) as accepted_bad, and a private page served to the
wrong user or a name rendered as HTML as leaked.
"""

import gzip
import http.cookiejar
import io
import secrets
import tarfile
import urllib.error
import urllib.parse
import urllib.request

from devtools.archives import tgz, zero_bomb
from devtools.hostile_state import differences

TIMEOUT_SECS = 60
GOOD_C = "#include <stdio.h>\nint main(void) { return 0; }\n"
# What must never appear raw in a page: the start of each hostile text below.
RAW_MARKERS = ("<script>alert(", "<img src=x onerror=")
HOSTILE_TEXTS = ("<script>alert('hostile')</script>", '"><img src=x onerror=alert(1)>',
                 "</textarea><script>alert('comment')</script>")


# Readers of a page open to every logged-in user.
LOGGED_IN = "every logged-in user"
# Readers of a page open to everyone, with or without an account: the public results
# (website.public_results, true by default and in the campaign's cluster).
EVERYONE = "everyone"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class SiteClient:
    """One visitor of the site, logged in or not."""

    def __init__(self, base_url, username=None):
        self.base_url = base_url
        self.username = username
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def __repr__(self):
        return self.username or "no user"

    def request(self, path, data=None, headers=None):
        """(status, body, Location header); status None when the connection failed."""
        request = urllib.request.Request(urllib.parse.urljoin(self.base_url, path), data=data,
                                         headers=headers or {})
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECS) as response:
                return response.status, response.read(), response.headers.get("Location")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Location")
        except OSError as e:
            return None, str(e).encode(), None

    def get(self, path):
        return self.request(path)

    def csrf_token(self):
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        self.get("accounts/login/")
        return next(c.value for c in self.cookies if c.name == "csrftoken")

    def post(self, path, fields, files=None):
        """A form POST; `files` maps field names to (filename, bytes)."""
        token = self.csrf_token()
        fields = {"csrfmiddlewaretoken": token, **fields}
        boundary = secrets.token_hex(16)
        body = io.BytesIO()
        for name, value in fields.items():
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                       .encode())
            body.write(value.encode() if isinstance(value, str) else value)
            body.write(b"\r\n")
        for name, (filename, content) in (files or {}).items():
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                       f'filename="{filename}"\r\nContent-Type: application/gzip\r\n\r\n'
                       .encode())
            body.write(content)
            body.write(b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        return self.request(path, body.getvalue(), {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": token, "Referer": self.base_url})

    def login(self, password):
        status, _, location = self.post("accounts/login/", {"username": self.username,
                                                            "password": password})
        if status != 302:
            raise RuntimeError(f"cannot log in as {self.username}: HTTP {status}")


def champion_archive(source=GOOD_C, **extra):
    return tgz({"_lang": b"c\n", "champion.c": source.encode(), **extra})


def _symlink(target):
    def tweak(info):
        info.type, info.linkname = tarfile.SYMTYPE, target
    return tweak


def _hardlink(target):
    def tweak(info):
        info.type, info.linkname = tarfile.LNKTYPE, target
    return tweak


def _device(info):
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3


def _fifo(info):
    info.type = tarfile.FIFOTYPE


def _mode(mode):
    def tweak(info):
        info.mode = mode
    return tweak


def _truncated_header():
    data = champion_archive()
    return gzip.compress(gzip.decompress(data)[:700])


def bad_archives():
    """Archives the upload form must refuse, by what is wrong with them."""
    yield "not gzip", b"just text, no archive"
    yield "empty file", b""
    yield "gzip of no tar", gzip.compress(b"hello " * 100)
    yield "truncated tar", _truncated_header()
    yield "archive bomb (300 MiB of zeros)", zero_bomb(300 * 2**20)
    yield "3000 members", tgz({f"f{n}.c": b"" for n in range(3000)})
    yield "3 MiB of random bytes", secrets.token_bytes(3 * 2**20)
    for name in ("../champion.c", "../../../../tmp/hostile-escaped", "/tmp/hostile-absolute",
                 "a/../../escaped", "./../escaped"):
        yield f"member {name!r}", champion_archive(**{name: b"escaped"})
    yield "symlink to /etc/passwd", champion_archive(**{"passwd": _symlink("/etc/passwd")})
    yield "symlink out of the archive", champion_archive(**{"up": _symlink("../../..")})
    yield "hard link to /etc/shadow", champion_archive(**{"shadow": _hardlink("/etc/shadow")})
    yield "device node", champion_archive(**{"null": _device})
    yield "fifo", champion_archive(**{"pipe": _fifo})
    yield "setuid file", champion_archive(**{"tool": _mode(0o4755)})
    yield "setgid file", champion_archive(**{"tool": _mode(0o2755)})


def bad_forms(context):
    """(client name, path, fields, files) of form posts the site must refuse."""
    good = {"sources": ("champion.tgz", champion_archive())}
    for what, data in bad_archives():
        yield what, "alice", "champions/new/", {"name": "bad", "comment": ""}, \
            {"sources": ("champion.tgz", data)}
    yield "champion without a name", "alice", "champions/new/", {"name": ""}, good
    yield "champion with a blank name", "alice", "champions/new/", {"name": "   "}, good
    yield "champion with a 101-character name", "alice", "champions/new/", \
        {"name": "x" * 101}, good
    yield "champion with a NUL in its name", "alice", "champions/new/", {"name": "a\x00b"}, good
    # A newline in a name once reached the compile script's command line.
    yield "champion with a newline in its name", "alice", "champions/new/", \
        {"name": "a\nb"}, good
    yield "champion with ESC in its name", "alice", "champions/new/", {"name": "a\x1b[2Jb"}, good
    yield "map with a newline in its name", "alice", "maps/new/", \
        {"name": "m\nm", "contents": "x"}, None
    yield "champion without sources", "alice", "champions/new/", {"name": "nosrc"}, None
    yield "map without contents", "alice", "maps/new/", {"name": "m", "contents": ""}, None
    yield "map of blanks", "alice", "maps/new/", {"name": "m", "contents": " \n \n"}, None
    yield "map over 64 KiB", "alice", "maps/new/", {"name": "m", "contents": "x" * 70_000}, \
        None
    yield "map with a 101-character name", "alice", "maps/new/", \
        {"name": "m" * 101, "contents": "x"}, None
    yield "map with a NUL", "alice", "maps/new/", {"name": "m", "contents": "a\x00b"}, None
    champion_id, other_id = context["alice_champion"], context["bob_champion"]
    for value in ("abc", "-1", "0", "99999999999999999999999", "1e3", "", "1 OR 1=1"):
        yield f"match with champion {value!r}", "alice", "matches/new/", \
            {"champion_1": value, "champion_2": str(other_id)}, None
    yield "match with an unready champion", "alice", "matches/new/", \
        {"champion_1": str(context["unready_champion"]), "champion_2": str(champion_id)}, None
    yield "match with a deleted champion", "alice", "matches/new/", \
        {"champion_1": str(context["deleted_champion"]), "champion_2": str(champion_id)}, None
    for value in ("x", "-1", "99999999999999999999999"):
        yield f"match with map {value!r}", "alice", "matches/new/", \
            {"champion_1": str(champion_id), "champion_2": str(other_id), "map": value}, None
    yield "match with one champion", "alice", "matches/new/", \
        {"champion_1": str(champion_id)}, None
    yield "delete another's champion", "bob", f"champions/{champion_id}/delete/", {}, None
    yield "delete a champion with no user", None, f"champions/{champion_id}/delete/", {}, None
    yield "make a map official as a player", "alice", f"maps/{context['map']}/official/", \
        {}, None
    yield "register (closed)", None, "accounts/register/", \
        {"username": "intruder", "email": "x@example.com", "password1": "Zq8!kd9aLw",
         "password2": "Zq8!kd9aLw"}, None
    yield "log in with a wrong password", None, "accounts/login/", \
        {"username": "alice", "password": "wrong"}, None
    yield "log in with a 10000-character name", None, "accounts/login/", \
        {"username": "a" * 10_000, "password": "x"}, None
    yield "log in with a NUL", None, "accounts/login/", {"username": "al\x00ice",
                                                         "password": "x"}, None
    yield "post without a CSRF token", "alice", "maps/new/", \
        {"name": "m", "contents": "x", "csrfmiddlewaretoken": "wrong"}, None


def attack_forms(tally, state, clients, context):
    """Every bad form post refused, and the database and shared directory unchanged."""
    before = state.snapshot()
    for what, user, path, fields, files in bad_forms(context):
        tally.input()
        client = clients[user]
        if fields.get("csrfmiddlewaretoken") == "wrong":
            fields = dict(fields)
            status, body, location = _post_with_token(client, path, fields)
        else:
            status, body, location = client.post(path, fields, files)
        _judge_refusal(tally, f"form {what} (as {client})", status, body, location)
    changed = differences(before, state.snapshot())
    if changed:
        tally.accepted_bad("bad forms changed the state", "; ".join(changed[:5]))


def _post_with_token(client, path, fields):
    """A POST carrying exactly the given (wrong) CSRF token."""
    client.csrf_token()
    body = urllib.parse.urlencode(fields).encode()
    return client.request(path, body, {"Content-Type": "application/x-www-form-urlencoded"})


def _judge_refusal(tally, what, status, body, location):
    if status is None or status >= 500:
        tally.crash(what, f"HTTP {status}: {body[:200]!r}")
    elif status in (301, 302, 303) and "/login/" not in (location or ""):
        tally.accepted_bad(what, f"HTTP {status} to {location}: accepted")
    elif status == 200 and b"error" not in body.lower():
        tally.accepted_bad(what, "HTTP 200 without an error message")


def bad_urls(context):
    """URLs with ids and query values no page should choke on."""
    huge = "99999999999999999999999"
    match_id = context["match"]
    return [f"champions/{huge}/", f"champions/{huge}/compilation.log", f"champions/{huge}/log/",
            f"champions/{huge}/sources.tgz", f"matches/{huge}/",
            f"matches/{huge}/server.log", f"matches/{huge}/server-log/",
            f"matches/{huge}/dump.json.gz", f"matches/{huge}/replay",
            f"matches/{match_id}/players/{huge}.log", f"matches/{match_id}/players/{huge}/log/",
            f"maps/{huge}/", f"tournaments/{huge}/", "champions/0/", "matches/-1/",
            "champions/?page=-1", "champions/?page=abc", f"champions/?page={huge}",
            f"matches/?champion={huge}", "matches/?champion=-5&tournament=x",
            f"matches/?tournament={huge}", f"matches/new/?champion={huge}",
            "matches/?author=%00", "maps/?page=0", "champions/%2e%2e/%2e%2e/etc/passwd",
            "static/../../../../etc/passwd", "matches/?author=" + "a" * 5000]


def admin_urls():
    """Searches and filters of the admin's lists, for staff."""
    return [f"admin/{model}/?{query}" for model in ("auth/user", "stechec/champion",
                                                    "stechec/match", "stechec/map")
            for query in ("q=%00", "q=" + "%25" * 3000, "o=999", "p=-1", "status__exact=%00",
                          "e=1", "_to_field=password")]


def attack_urls(tally, client, paths):
    for path in paths:
        tally.input()
        status, body, _ = client.get(path)
        if status is None or status >= 500:
            tally.crash(f"GET {path} (as {client})", f"HTTP {status}: {body[:200]!r}")
        elif b"root:x:0:0" in body:
            tally.leaked(f"GET {path} (as {client})", "served /etc/passwd")


def private_urls(context):
    """(path, users who may read it) for each private thing of the seeded champions and match."""
    champion, match = context["alice_champion"], context["match"]
    alice_log, bob_log = context["alice_player_log"], context["bob_player_log"]
    outputs = {"alice", "bob", "organiser"}
    yield f"champions/{champion}/compilation.log", {"alice", "organiser"}
    yield f"champions/{champion}/log/", {"alice", "organiser"}
    yield f"champions/{champion}/sources.tgz", {"alice", "organiser"}
    yield f"champions/{context['deleted_champion']}/", {"organiser"}
    yield f"champions/{context['deleted_champion']}/sources.tgz", {"organiser"}
    yield f"matches/{match}/server.log", outputs
    yield f"matches/{match}/server-log/", outputs
    yield f"matches/{match}/dump.json.gz", outputs
    yield f"matches/{match}/dump.json", outputs
    yield f"matches/{match}/viewer/", outputs
    yield f"matches/{match}/replay", outputs
    for log, author in ((alice_log, "alice"), (bob_log, "bob")):
        yield f"matches/{match}/players/{log}.log", {author, "organiser"}
        yield f"matches/{match}/players/{log}/log/", {author, "organiser"}
    for path in ("admin/", "admin/auth/user/", "admin/stechec/champion/",
                 f"admin/stechec/champion/{champion}/change/", "admin/stechec/match/",
                 f"admin/auth/user/{context['alice_id']}/password/",
                 "admin/stechec/operatoraction/", "status/operations/"):
        yield path, {"organiser"}
    for path in ("champions/", "champions/mine/", "matches/", f"matches/{match}/", "maps/",
                 f"champions/{champion}/", "status/", "matches/new/"):
        yield path, LOGGED_IN
    for path in ("tournaments/", "leaderboard/", "learn/"):
        yield path, EVERYONE


def attack_private_urls(tally, clients, context):
    """Each private URL: served to its readers, refused to everyone else."""
    for path, readers in private_urls(context):
        for name, client in clients.items():
            tally.input()
            status, body, location = client.get(path)
            what = f"GET {path} as {client}"
            may_read = (readers is EVERYONE or (name is not None if readers is LOGGED_IN
                                                else name in readers))
            if status is None or status >= 500:
                tally.crash(what, f"HTTP {status}")
            elif may_read:
                if status != 200:
                    # The check must be able to fail: the rightful reader gets the page.
                    tally.accepted_bad(what, f"its reader got HTTP {status}, not the page")
            elif status == 200:
                tally.leaked(what, "served to someone who may not read it")
            elif status in (301, 302) and "login" not in (location or ""):
                tally.leaked(what, f"redirected to {location}, not to a login page")
    _check_links_hidden(tally, clients, context)


def _check_links_hidden(tally, clients, context):
    """Pages a stranger may see do not link to what they may not read."""
    match, champion = context["match"], context["alice_champion"]
    for name, path, secret_links in (
            ("carol", f"matches/{match}/", (f"/matches/{match}/server", "/dump.json",
                                            f"/matches/{match}/viewer/", "players/")),
            ("bob", f"champions/{champion}/", (f"/champions/{champion}/sources.tgz",
                                               f"/champions/{champion}/compilation.log",
                                               f"/champions/{champion}/log/")),
            ("bob", f"matches/{match}/", (f"players/{context['alice_player_log']}.log",
                                          f"players/{context['alice_player_log']}/log/"))):
        tally.input()
        _, body, _ = clients[name].get(path)
        for link in secret_links:
            if link.encode() in body:
                tally.leaked(f"GET {path} as {name}", f"links to {link}")


def hostile_names():
    """Champion names and comments, map names: HTML, script and path traversal, all valid."""
    for index, text in enumerate(HOSTILE_TEXTS):
        yield "champion", {"name": text, "comment": HOSTILE_TEXTS[-1 - index]}
        yield "map", {"name": text, "contents": text}
    yield "champion", {"name": "../../../../etc/passwd", "comment": "../.."}
    yield "map", {"name": "../../../../etc/passwd", "contents": "x"}


def pages_showing_names(context):
    champions, maps = context["hostile_champions"], context["hostile_maps"]
    pages = ["", "champions/", "champions/mine/", "matches/", "matches/mine/", "maps/",
             "matches/new/", "status/", f"matches/{context['hostile_match']}/",
             "matches/?author=%3Cscript%3Ealert('hostile')%3C/script%3E",
             "admin/stechec/champion/", "admin/stechec/map/", "admin/stechec/match/"]
    pages += [f"champions/{pk}/" for pk in champions]
    pages += [f"maps/{pk}/" for pk in maps]
    pages += [f"admin/stechec/champion/{pk}/change/" for pk in champions]
    return pages


def check_escaped(tally, clients, context):
    """Every page showing the hostile names shows them as text, never as HTML."""
    for path in pages_showing_names(context):
        for name in ("alice", "organiser"):
            tally.input()
            status, body, _ = clients[name].get(path)
            what = f"GET {path} as {name}"
            if status is None or status >= 500:
                tally.crash(what, f"HTTP {status}")
                continue
            for marker in RAW_MARKERS:
                if marker.encode() in body:
                    tally.leaked(what, f"{marker!r} rendered unescaped")
    # The check must be able to fail: the detail page does show the name, escaped.
    _, body, _ = clients["alice"].get(f"champions/{context['hostile_champions'][0]}/")
    if b"&lt;script&gt;alert(" not in body:
        tally.accepted_bad("champion detail page", "the hostile name is not shown at all")
