"""The API over HTTP with the standard library alone (urllib): JSON in and out, multipart
for uploads, files streamed to disk."""

import base64
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request

import click

CHUNK_BYTES = 64 * 1024
TIMEOUT_SECS = 60


class ApiError(click.ClickException):
    """The site refused: its message, and the HTTP status (the exit status is 1)."""

    def __init__(self, status, message, retry_after=None):
        when = f" (retry in {retry_after} s)" if retry_after else ""
        super().__init__(f"{message}{when} [HTTP {status}]")
        self.status = status


class Client:
    """The API as one user: `token` theirs, or `basic` (user name, password) for the one
    endpoint that takes them (making a token)."""

    def __init__(self, url, token=None, *, basic=None):
        self.url = url.rstrip("/")
        self.token = token
        self.basic = basic

    def _request(self, method, path, *, params=None, body=None, content_type=None):
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items()
                                                 if v is not None})
        request = urllib.request.Request(url, data=body, method=method)
        if self.basic:
            pair = base64.b64encode(":".join(self.basic).encode()).decode()
            request.add_header("Authorization", f"Basic {pair}")
        else:
            request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_SECS)
        except urllib.error.HTTPError as e:
            raise _api_error(e) from None
        except (urllib.error.URLError, OSError) as e:
            raise click.ClickException(f"Cannot reach {self.url}: "
                                       f"{getattr(e, 'reason', e)}") from None

    def get(self, path, **params):
        with self._request("GET", path, params=params) as response:
            return json.load(response)

    def post(self, path, data):
        with self._request("POST", path, body=json.dumps(data).encode(),
                           content_type="application/json") as response:
            return json.load(response)

    def upload(self, path, fields, file_field, file_name, file_data):
        body, content_type = _multipart(fields, file_field, file_name, file_data)
        with self._request("POST", path, body=body, content_type=content_type) as response:
            return json.load(response)

    def every(self, path, **params):
        """Every item of a paginated list, page after page."""
        page = 1
        while True:
            answer = self.get(path, page=page, **params)
            yield from answer["results"]
            if not answer["next"]:
                return
            page += 1

    def download(self, path, destination):
        """Stream `path` to the file `destination`, published by rename once whole."""
        temporary = f"{destination}.part"
        with self._request("GET", path) as response, open(temporary, "wb") as f:
            while chunk := response.read(CHUNK_BYTES):
                f.write(chunk)
        os.replace(temporary, destination)

    def text(self, path):
        with self._request("GET", path) as response:
            return response.read().decode("utf-8", errors="replace")


def _api_error(error):
    try:
        body = json.loads(error.read())
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("detail") or "; ".join(
            f"{field}: {' '.join(problems) if isinstance(problems, list) else problems}"
            for field, problems in (body.get("errors") or body).items())
    else:
        message = error.reason
    return ApiError(error.code, message, error.headers.get("Retry-After"))


def _multipart(fields, file_field, file_name, file_data):
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f'{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{file_name}"\r\nContent-Type: application/gzip\r\n\r\n'.encode())
    parts.append(file_data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
