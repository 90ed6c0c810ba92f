"""The README's Deployment section, followed on this machine, then a player's journey.

For each install (pip into a venv made from Debian's own python3, waf into
a prefix with that venv's Python), `deployment` follows the README's
commands one by one (operator_steps.py) in a throwaway directory: install,
users and permissions, configurations from `stechec-samples`, database,
migrate, superuser, collectstatic, then the site, the master and a worker
started as the units `stechec-samples` wrote say, and nginx with the sample
virtual host in front. Then a player signs up, uploads champions, plays a
match, reads its logs and downloads its replay, all through nginx, and the
daemons' lines are read back from an rsyslog of the test's own. Root (nginx,
the worker's sandbox, the units' users), rsyslog, nginx, bubblewrap and
PostgreSQL are needed: CI installs them; elsewhere the test skips without
them.
"""

import glob
import os
import re
import shutil
import tempfile
import time

import psycopg2
import pytest

from tests.conftest import require_root, require_tool, unavailable
from tests.deployment.operator_steps import INSTALLS, STEPS, Deployment, step_of
from tests.deployment.readme import deployment_commands
from tests.e2e.client import PlayerSession, form_errors, match_seats, status_of
from tests.settings import PG

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Debian's own interpreter (3.11.2 on Debian 12), which the README's venv is made from.
SYSTEM_PYTHON = "/usr/bin/python3"
PLAYER = ("dana", "dana-deploy-password")
CHAMPIONS = ("c-good", "python-random")
# Generous: the machine's two cores may be shared with other test runs.
WAIT_SECS = 240


def test_every_readme_command_is_one_step_and_every_step_a_readme_command():
    commands = deployment_commands()
    performed = {index for index, _ in map(step_of, commands)}
    assert performed == set(range(len(STEPS))), (
        "steps of operator_steps.py no README command asks for: "
        f"{[STEPS[index][0] for index in sorted(set(range(len(STEPS))) - performed)]}")


def postgres_or_skip():
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=5, **PG).close()
    except psycopg2.OperationalError as e:
        unavailable(f"PostgreSQL at {PG['host']}:{PG['port']} cannot be reached: {e}",
                    required_by="STECHEC_REQUIRE_POSTGRES")
    return PG


def drop_database(deployment):
    connection = psycopg2.connect(dbname="postgres", **PG)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{deployment.db_name}" WITH (FORCE)')
        cursor.execute(f'DROP ROLE IF EXISTS "{deployment.db_role}"')
    connection.close()


@pytest.fixture(scope="module", params=INSTALLS)
def deployment(request):
    require_root("nginx, the worker's sandbox and the units' users")
    for tool in ("nginx", "rsyslogd", "bwrap", "setpriv"):
        require_tool(tool, "the deployment the README describes", search_path=SYSTEM_PATH)
    postgres = postgres_or_skip()
    base = tempfile.mkdtemp(prefix=f"stechec-deploy-{request.param}-")
    # The units' users and nginx's www-data reach their files below it.
    os.chmod(base, 0o755)
    deployment = Deployment(request.param, base, postgres)
    try:
        deployment.prepare()
        deployment.follow_readme()
        yield deployment
    finally:
        deployment.stop()
        drop_database(deployment)
        shutil.rmtree(base, ignore_errors=True)


def log_in(deployment, username, password, path="/accounts/login/"):
    session = PlayerSession(deployment.url)
    session.post(path, {"username": username, "password": password})
    return session


def wait_until(deployment, condition, what):
    """condition()'s first true value; on timeout, fail with the tail of every service's log."""
    deadline = time.monotonic() + WAIT_SECS
    while not (value := condition()):
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {service.name}:\n{service.log_tail(30)}"
                           for service in deployment.supervisor.services)
            raise AssertionError(f"timed out after {WAIT_SECS} s waiting for {what}{logs}")
        time.sleep(0.5)
    return value


def syslog_lines(deployment, pattern):
    return re.findall(f"^{pattern}$", deployment.log("syslog"), re.M)


def test_a_player_signs_up_plays_a_match_and_downloads_its_replay(deployment):
    player = PlayerSession(deployment.url)
    username, password = PLAYER
    signed_up = player.post("/accounts/register/", {
        "username": username, "email": f"{username}@example.org",
        "password1": password, "password2": password})
    assert signed_up.status == 200 and "/accounts/register/" not in signed_up.url, (
        f"signing up led to {signed_up.status} {signed_up.url}:\n{form_errors(signed_up.body)}")

    samples = os.path.join(deployment.share, "champions", "tictactoe")
    champions = [player.upload(name, os.path.join(samples, name)) for name in CHAMPIONS]

    def compiled():
        statuses = [status_of(player.get(f"/champions/{pk}/").body, "champion-status")
                    for pk in champions]
        for pk, status in zip(champions, statuses, strict=True):
            assert status not in ("error", "failed"), (
                f"champion {pk} is {status}:\n"
                f"{player.get(f'/champions/{pk}/compilation.log').body}")
        return statuses == ["ready"] * len(champions)
    wait_until(deployment, compiled, f"champions {champions} to compile")
    for pk in champions:
        log = player.get(f"/champions/{pk}/compilation.log")
        assert log.status == 200 and log.body.strip(), f"champion {pk}'s compilation log: {log}"

    match = player.launch_match(*champions)

    def finished():
        page = player.get(f"/matches/{match}/").body
        status = status_of(page, "match-status")
        assert status != "failed", f"match {match} failed:\n{page}"
        return page if status == "done" else None
    page = wait_until(deployment, finished, f"match {match} to finish")

    seats = match_seats(page)
    assert [seat.champion_id for seat in seats] == champions
    assert all(seat.score is not None and seat.log_url for seat in seats), seats
    for path in [f"/matches/{match}/server.log"] + [seat.log_url for seat in seats]:
        log = player.get(path)
        assert log.status == 200 and log.body.strip(), f"{path}: {log.status}"
    replays = glob.glob(os.path.join(deployment.shared, "tictactoe", "matches", "*", "*",
                                     "attempt-*", "replay"))
    assert len(replays) == 1, replays
    with player.opener.open(f"{deployment.url}matches/{match}/replay") as response:
        downloaded = response.read()
    with open(replays[0], "rb") as f:
        assert downloaded == f.read()

    # What each daemon said about this match, in syslog.
    wait_until(deployment, lambda: syslog_lines(
        deployment, rf"master-node: \[INFO\] match {match} attempt \d+: done from \S+"),
        f"the master's line in syslog about match {match}")
    for pk in champions:
        assert syslog_lines(deployment, rf"worker-node: \[INFO\] champion {pk} attempt \d+: "
                                        r"accepted \(\d+ slots\)"), deployment.log("syslog")
    assert syslog_lines(deployment, rf"worker-node: \[INFO\] match {match} attempt \d+: "
                                    r"accepted \(\d+ slots\)"), deployment.log("syslog")


def test_the_daemons_log_to_syslog_and_nothing_went_wrong(deployment):
    assert syslog_lines(deployment, r"master-node: \[INFO\] game tictactoe: listening on .+")
    assert syslog_lines(deployment, r"worker-node: \[INFO\] registered with the master at .+")
    problems = syslog_lines(deployment, r"(?:master|worker)-node: \[(?:ERROR|CRITICAL)\] .*")
    assert problems == deployment.expected_syslog_errors, deployment.log("syslog")
    for service in ("website", "master-node", "worker-node"):
        assert "Traceback" not in deployment.log(f"{service}.log"), \
            deployment.log(f"{service}.log")
    # gunicorn's own errors: a worker that died, a control socket it cannot open (in
    # $HOME, /nonexistent for the unit's system user, without the sample's setting).
    for error in ("[ERROR]", "Permission denied"):
        assert error not in deployment.log("website.log"), deployment.log("website.log")


def test_the_install_runs_on_debians_own_python(deployment):
    venv_python = deployment.translate("/opt/stechec/bin/python3")
    assert os.path.realpath(venv_python) == os.path.realpath(SYSTEM_PYTHON)


def test_nginx_serves_the_collected_static_files(deployment):
    home = PlayerSession(deployment.url).get("/")
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', home.body)
    assert stylesheets, home.body[:2000]
    response = PlayerSession(deployment.url).get(stylesheets[0])
    assert response.status == 200 and response.body
    collected = os.path.join(deployment.static_root, stylesheets[0][len("/static/"):])
    with open(collected) as f:
        assert response.body == f.read()
    # From the disk by nginx, not from the site through it.
    assert "/static/" not in deployment.log("website.log")


def test_the_superuser_reaches_the_admin(deployment):
    username, password = deployment.superuser
    organiser = log_in(deployment, username, password, "/admin/login/?next=/admin/")
    admin = organiser.get("/admin/")
    assert admin.status == 200 and "Site administration" in admin.body, (
        f"{username} (stechec-manage createsuperuser) cannot reach the admin: "
        f"{admin.status} {admin.url}")


def test_the_configuration_files_holding_secrets_are_not_world_readable(deployment):
    for name in ("website.yml", "master-node.yml", "worker-node.yml"):
        mode = os.stat(os.path.join(deployment.etc, name)).st_mode
        assert not mode & 0o007, f"/etc/stechec/{name} holds secrets but is mode {mode & 0o777:o}"
