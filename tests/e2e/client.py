"""A player's side of the site over real HTTP: cookies, CSRF, forms, and reading the pages.

Only the standard library: what the tests send is what a browser would,
a form-encoded or multipart POST carrying the CSRF cookie's token.
"""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from typing import NamedTuple

from stechec.local.seed import source_archive

TIMEOUT_SECS = 60


class Response(NamedTuple):
    status: int
    url: str
    body: str


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/gzip\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class PlayerSession:
    """One player's cookies on the site at `base_url`."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _request(self, path, data=None, content_type=None):
        request = urllib.request.Request(urllib.parse.urljoin(self.base_url, path), data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECS) as response:
                return Response(response.status, response.url,
                                response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            return Response(e.code, e.url, e.read().decode("utf-8", "replace"))

    def get(self, path):
        return self._request(path)

    def _csrf_token(self, path):
        """The CSRF cookie's value, fetching the form first when there is none yet."""
        for _ in range(2):
            for cookie in self.cookies:
                if cookie.name == "csrftoken":
                    return cookie.value
            self.get(path)
        raise AssertionError(f"the site set no CSRF cookie on {path}")

    def post(self, path, fields, files=None):
        fields = {"csrfmiddlewaretoken": self._csrf_token(path), **fields}
        if files:
            body, content_type = multipart(fields, files)
        else:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        return self._request(path, body, content_type)

    def log_in(self, username, password):
        response = self.post("/accounts/login/", {"username": username, "password": password})
        assert response.status == 200 and "/accounts/login/" not in response.url, (
            f"{username} could not log in: {response.status} {response.url}")
        return response

    def upload(self, name, directory):
        """Upload a sample champion; its id, read from the page the form leads to."""
        response = self.post("/champions/new/", {"name": name, "comment": "e2e"},
                             {"sources": (f"{name}.tgz", source_archive(directory).getvalue())})
        found = re.search(r"/champions/(\d+)/$", response.url)
        assert response.status == 200 and found, (
            f"uploading {name} led to {response.status} {response.url}:\n"
            f"{form_errors(response.body)}")
        return int(found.group(1))

    def launch_match(self, *champion_ids):
        fields = {f"champion_{seat + 1}": pk for seat, pk in enumerate(champion_ids)}
        response = self.post("/matches/new/", {**fields, "map": ""})
        found = re.search(r"/matches/(\d+)/$", response.url)
        assert response.status == 200 and found, (
            f"launching a match of {champion_ids} led to {response.status} {response.url}:\n"
            f"{form_errors(response.body)}")
        return int(found.group(1))


def form_errors(body):
    return "\n".join(re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', body, re.S)) or body[:2000]


def status_of(body, element_id):
    """The status badge's value in the element `element_id` (champion-status, match-status)."""
    found = re.search(rf'id="{element_id}"><span class="status status-(\w+)"', body)
    assert found, f"no #{element_id} badge on the page:\n{body[:2000]}"
    return found.group(1)


class TableReader(HTMLParser):
    """Each <tbody> row of a page: its cells' text and its links."""

    def __init__(self):
        super().__init__()
        self.rows = []
        self.in_body = False
        self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append({"cells": [], "links": []})
        elif self.in_body and tag == "td":
            self.cell = []
        elif self.in_body and tag == "a" and self.rows:
            self.rows[-1]["links"].append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1]["cells"].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(body):
    reader = TableReader()
    reader.feed(body)
    return reader.rows


class Seat(NamedTuple):
    champion_id: int
    author: str
    score: int | None
    timeouts: int
    log_url: str | None


def match_seats(body):
    """The players table of a match's page, in seat order (the first table on the page)."""
    seats = []
    for row in table_rows(body):
        champion = next((int(m.group(1)) for link in row["links"]
                         if (m := re.fullmatch(r"/champions/(\d+)/", link or ""))), None)
        if champion is None:
            break
        log = next((link for link in row["links"] if link.endswith(".log")), None)
        score = row["cells"][3]
        timeouts = int(re.match(r"\d+", row["cells"][4]).group())
        seats.append(Seat(champion, row["cells"][2], int(score) if score.isdigit() else None,
                          timeouts, log))
    return seats
