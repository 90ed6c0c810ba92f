"""Accounts created in bulk by the organisers, from a CSV file (docs/website.md, "Accounts").

The file has a header line naming its columns, `username` and `email`, and
`display_name` if wanted (any order, other columns ignored); each following
line is one account.
Every line is checked before any account is made: a file with a bad line
creates nothing, and the error names every bad line. Each new account gets
a generated password, returned once (printed or shown) and, when asked,
mailed to its address.
"""

import csv
import io
import secrets
from typing import NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext

from stechec.contest.models import PlayerProfile
from stechec.www.contest.forms import check_display_name, check_username

COLUMNS = ("username", "email")
DISPLAY_NAME = "display_name"
# Most accounts one file may create.
MAX_ACCOUNTS = 5000
# Characters of a generated password (base64url: about 6 bits each).
PASSWORD_CHARS = 16


class BadFile(ValueError):
    """The file cannot be used; the message names every problem, one per line."""


class NewAccount(NamedTuple):
    username: str
    email: str
    password: str


def read(text):
    """The (username, email, display name) rows of a CSV file's text; BadFile naming
    every bad line."""
    rows = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(rows, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise BadFile(gettext("the first line must name the columns, among them %(missing)s "
                              "(it reads: %(header)s)")
                      % {"missing": ", ".join(missing),
                         "header": ",".join(header) or gettext("nothing")})
    where = [header.index(name) for name in COLUMNS]
    if DISPLAY_NAME in header:
        where.append(header.index(DISPLAY_NAME))
    accounts, problems, seen = [], [], {}
    for line, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(where):
            problems.append((line, gettext("%(count)s columns, the header names %(header)s")
                             % {"count": len(row), "header": len(header)}))
            continue
        username, email, display_name, *_ = [row[i].strip() for i in where] + [""]
        problem = _problem(username, email, display_name)
        if username in seen:
            problem = (gettext("%(name)s is already on line %(line)s")
                       % {"name": username, "line": seen[username]})
        seen.setdefault(username, line)
        if problem:
            problems.append((line, problem))
        else:
            accounts.append((username, email, display_name))
    taken = set(User.objects.filter(username__in=[u for u, _, _ in accounts])
                .values_list("username", flat=True))
    problems += [(seen[u], gettext("an account named %(name)s exists already") % {"name": u})
                 for u in taken]
    if problems:
        # Translators: what separates the bad lines of a file, one after the other.
        raise BadFile(gettext("; ").join(gettext("line %(line)s: %(problem)s")
                                % {"line": line, "problem": problem}
                                for line, problem in sorted(problems)))
    if not accounts:
        raise BadFile(gettext("the file has no account line after its header"))
    if len(accounts) > MAX_ACCOUNTS:
        raise BadFile(gettext("%(count)s accounts; one file may create %(most)s at most")
                      % {"count": len(accounts), "most": MAX_ACCOUNTS})
    return accounts


def _problem(username, email, display_name):
    try:
        check_username(username)
    except ValidationError as e:
        return (gettext("the name %(name)s: %(why)s")
                % {"name": repr(username), "why": " ".join(e.messages)})
    try:
        validate_email(email)
    except ValidationError:
        return gettext("%(email)s is not an email address") % {"email": repr(email)}
    try:
        check_display_name(None, display_name)
    except ValidationError as e:
        return (gettext("the display name %(name)s: %(why)s")
                % {"name": repr(display_name), "why": " ".join(e.messages)})
    return None


def create(accounts):
    """Make the accounts of read()'s rows, all or none; their passwords, in file order."""
    made = [NewAccount(username, email, secrets.token_urlsafe(PASSWORD_CHARS * 3 // 4))
            for username, email, _ in accounts]
    with transaction.atomic():
        for account, (_, _, display_name) in zip(made, accounts, strict=True):
            user = User.objects.create_user(account.username, account.email, account.password)
            if display_name:
                PlayerProfile.objects.create(user=user, display_name=display_name)
    return made


def mail(accounts, login_url):
    """Send each new account its name and password; how many were sent."""
    for account in accounts:
        send_mail(gettext("Stechec2: your account"),
                  gettext("Hello %(name)s,\n\nAn account was made for you on %(url)s\n\n"
                          "    user name: %(name)s\n    password:  %(password)s\n\n"
                          "Change the password once logged in (click your name at the top "
                          "right).\n")
                  % {"name": account.username, "url": login_url, "password": account.password},
                  None, [account.email])
    return len(accounts)


def as_csv(accounts):
    """The new accounts with their passwords, as CSV (username,email,password)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["username", "email", "password"])
    writer.writerows(accounts)
    return out.getvalue()
