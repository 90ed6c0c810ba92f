import os
import pwd
import re
import tarfile

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stechec.common import paths
from stechec.contest.models import Champion
from stechec.www.contest import uploads
from tests.www.helpers import (
    champion_file,
    make_tgz,
    ready_champion,
    text,
    upload_file,
    write_file,
)

pytestmark = pytest.mark.django_db


def upload(client, data, name="mine"):
    return client.post(reverse("champion-new"), {"name": name, "comment": "first try",
                                                 "sources": upload_file(data)})


def test_upload_stores_the_archive_and_queues_the_champion(alice_client, site):
    data = make_tgz({"prologin.py": b"def play(): pass\n", "lib/util.py": b"x = 1\n"})

    response = upload(alice_client, data)

    champion = Champion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("champion-detail", args=[champion.pk])
    assert (champion.name, champion.comment, champion.status) == ("mine", "first try", "new")
    with open(champion_file(site, champion, paths.CHAMPION_SOURCES), "rb") as f:
        assert f.read() == data
    # Nothing but the archive: no temporary file left behind.
    assert os.listdir(os.path.dirname(champion_file(site, champion, "x"))) == ["champion.tgz"]


def test_an_archive_of_one_folder_is_taken_as_if_its_files_were_at_the_root(alice_client,
                                                                             site):
    # The usual mistake: `tar czf champion.tgz mychampion/`.
    data = make_tgz({"mychampion/prologin.c": b"int main;\n", "mychampion/lib/u.c": b"int u;\n"})

    response = alice_client.post(reverse("champion-new"), {"name": "mine", "sources":
                                                           upload_file(data)}, follow=True)

    champion = Champion.objects.get()
    assert "Its files were all in the folder mychampion/" in text(response)
    with tarfile.open(champion_file(site, champion, paths.CHAMPION_SOURCES)) as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar if m.isfile()} == {
            "prologin.c": b"int main;\n", "lib/u.c": b"int u;\n"}


def test_an_archive_with_files_at_the_root_is_stored_as_uploaded(alice_client, site):
    data = make_tgz({"prologin.c": b"int main;\n", "lib/u.c": b"int u;\n"})

    response = alice_client.post(reverse("champion-new"), {"name": "mine", "sources":
                                                           upload_file(data)}, follow=True)

    assert "taken as if" not in text(response)
    with open(champion_file(site, Champion.objects.get(), paths.CHAMPION_SOURCES), "rb") as f:
        assert f.read() == data


@pytest.mark.parametrize(("name", "message"), [
    ("two\nlines", "The name holds a newline ('\\n' at character 4)"),
    ("bell\x07", "The name holds a control character ('\\x07' at character 5)"),
    ("tab\there", "a control character ('\\t' at character 4)"),
    ("sep\u2028x", "a control character ('\\u2028' at character 4)"),
])
def test_a_name_with_a_newline_or_control_character_is_refused(alice_client, site, name,
                                                               message):
    response = upload(alice_client, make_tgz(), name)

    assert response.status_code == 200
    assert message in text(response)
    assert "a name is one line of printable characters" in text(response)
    assert not Champion.objects.exists()


def _setuid(info):
    info.mode = 0o4755
    info.size = 0


def test_a_setuid_file_is_refused(alice_client, site):
    response = upload(alice_client, make_tgz({"main.c": b"int x;\n", "tool": _setuid}))

    assert "'tool': files with the setuid bit are not accepted" in text(response)
    assert not Champion.objects.exists()


def _symlink(info):
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"


def _device(info):
    info.type = tarfile.CHRTYPE


@pytest.mark.parametrize(("data", "reason"), [
    (make_tgz(raw=b"this is not an archive"), "not a gzip-compressed tar archive"),
    (make_tgz({"/etc/evil": b"x"}), "absolute paths are not accepted"),
    (make_tgz({"../../escape": b"x"}), "'..' are not accepted"),
    (make_tgz({"link": _symlink}), "links are not accepted"),
    (make_tgz({"dev": _device}), "only regular files and directories"),
    (make_tgz(raw=make_tgz()[:40]), "archive"),
])
def test_a_refused_archive_says_why_and_stores_nothing(alice_client, site, data, reason):
    response = upload(alice_client, data)

    assert response.status_code == 200
    assert reason in text(response)
    assert not Champion.objects.exists()
    assert not os.path.exists(site["contest"]["directory"])


def test_archive_limits_come_from_the_configuration(alice_client, site):
    site["website"]["archive_max_members"] = 2
    response = upload(alice_client, make_tgz({"a": b"1", "b": b"2", "c": b"3"}))
    assert "too many files (more than 2)" in text(response)

    site["website"]["archive_max_unpacked_bytes"] = 1000
    response = upload(alice_client, make_tgz({"big": b"0" * 5000}))
    assert "unpacks to more than" in text(response)

    site["website"]["upload_max_bytes"] = 10
    response = upload(alice_client, make_tgz())
    assert "the limit is 10" in text(response)
    assert not Champion.objects.exists()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(alice, site):
    site["website"]["upload_max_bytes"] = 1000
    # With CSRF checked (which reads the whole body), the size check must come first.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = upload(strict, make_tgz({"big": os.urandom(200 * 1024)}))

    assert response.status_code == 413
    assert "a champion archive may be at most 1000" in text(response)
    # The page is the site's, with the logged-in player's menu.
    assert 'title="your account">alice</a>' in text(response) and "Log out" in text(response)
    assert not Champion.objects.exists()


def test_uploads_per_minute_are_limited_with_a_clear_message(alice_client, site):
    site["website"]["uploads_per_minute"] = 2
    assert upload(alice_client, make_tgz(), "one").status_code == 302
    assert upload(alice_client, make_tgz(), "two").status_code == 302

    response = upload(alice_client, make_tgz(), "three")

    assert response.status_code == 200
    assert "the limit is 2 a minute" in text(response)
    assert Champion.objects.count() == 2
    # When the first of the two is a minute old: ceil(60 s minus the time since it).
    first = Champion.objects.order_by("ts").first().ts
    waited = (timezone.now() - first).total_seconds()
    seconds = int(re.search(r"You may upload again in (\d+) s \(at \d\d:\d\d:\d\d\)",
                            text(response))[1])
    assert 60 - waited - 1 <= seconds <= 60


def test_seeded_champions_do_not_count_towards_the_upload_rate(alice_client, alice, site):
    # tools/run-local seeds samples for the demo players: that is not them uploading.
    site["website"]["uploads_per_minute"] = 2
    for name in ("sample one", "sample two", "sample three"):
        uploads.store_champion(alice, name, "bundled sample", upload_file(make_tgz()),
                               seeded=True)

    assert upload(alice_client, make_tgz(), "mine").status_code == 302
    assert upload(alice_client, make_tgz(), "mine too").status_code == 302
    assert "the limit is 2 a minute" in text(upload(alice_client, make_tgz(), "one too many"))
    assert [(c.name, c.seeded) for c in Champion.objects.order_by("id")] == [
        ("sample one", True), ("sample two", True), ("sample three", True),
        ("mine", False), ("mine too", False)]


def test_a_failed_write_rolls_the_row_back(alice_client, alice, site, caplog):
    # A plain file where alice's champions directory should be: the write fails for real.
    in_the_way = os.path.join(site["contest"]["directory"], "tictactoe", "champions", "alice")
    write_file(in_the_way, b"in the way")

    response = upload(alice_client, make_tgz())

    assert "could not store your archive (nothing was kept)" in text(response)
    assert in_the_way not in text(response), "players never see internal paths"
    assert not Champion.objects.exists()
    # The operator's line says what failed, who the site runs as and which directory.
    line = next(r.getMessage() for r in caplog.records if "cannot store" in r.getMessage())
    assert "Not a directory" in line and in_the_way in line
    assert f"the site runs as {pwd.getpwuid(os.geteuid()).pw_name} (uid {os.geteuid()})" in line
    assert f"(contest.directory: {site['contest']['directory']})" in line


def test_a_failed_transaction_removes_the_written_file(alice, site, monkeypatch):
    # A commit failing after the file is in place cannot be produced on demand;
    # fail right after the write instead, inside the same transaction.
    written = []
    real_write = uploads._write_atomically

    def write_then_fail(uploaded, directory, name):
        real_write(uploaded, directory, name)
        written.append(os.path.join(directory, name))
        raise RuntimeError("commit failed")

    monkeypatch.setattr(uploads, "_write_atomically", write_then_fail)
    with pytest.raises(RuntimeError):
        uploads.store_champion(alice, "doomed", "", upload_file(make_tgz()))

    assert written and not os.path.exists(written[0])
    assert not os.path.exists(os.path.dirname(written[0]))
    assert not Champion.objects.exists()


def test_lists_show_all_and_mine_without_deleted_ones(alice_client, alice, bob):
    ready_champion(alice, "alice-visible")
    ready_champion(alice, "alice-deleted", deleted=True)
    ready_champion(bob, "bob-visible")

    everything = alice_client.get(reverse("champion-list")).content.decode()
    mine = alice_client.get(reverse("champion-mine")).content.decode()

    assert "alice-visible" in everything and "bob-visible" in everything
    assert "alice-deleted" not in everything
    assert "alice-visible" in mine and "bob-visible" not in mine


def test_list_pages(alice_client, alice, site):
    site["website"]["page_size"] = 2
    for n in range(5):
        ready_champion(alice, f"champion-{n}")

    first = alice_client.get(reverse("champion-list")).content.decode()
    third = alice_client.get(reverse("champion-list") + "?page=3").content.decode()

    assert "champion-4" in first and "champion-3" in first and "champion-2" not in first
    assert "Older" in first and "Newer" not in first
    assert "champion-0" in third and "Older" not in third and "Newer" in third


def test_detail_is_live_while_waiting_and_shows_the_log_to_its_author(alice_client, alice,
                                                                        site):
    champion = ready_champion(alice)
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.NEW)

    waiting = text(alice_client.get(reverse("champion-detail", args=[champion.pk])))
    assert f'data-live-url="/champions/{champion.pk}/live.json"' in waiting
    assert "stechec/live.js" in waiting and 'http-equiv="refresh"' not in waiting
    assert "waiting for compilation" in waiting

    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.ERROR)
    write_file(champion_file(site, champion, f"attempt-1/{paths.COMPILATION_LOG}"),
               "error: missing ';'\n")
    failed = text(alice_client.get(reverse("champion-detail", args=[champion.pk])))
    assert "data-live-url" not in failed and "live.js" not in failed
    assert "error: missing ';'" in failed


def test_the_log_and_sources_are_for_the_author_and_staff_only(client, alice, bob, staff, site):
    champion = ready_champion(alice)
    write_file(champion_file(site, champion, f"attempt-3/{paths.COMPILATION_LOG}"),
               "compiled fine\n")
    write_file(champion_file(site, champion, f"attempt-2/{paths.COMPILATION_LOG}"),
               "an older compilation\n")
    write_file(champion_file(site, champion, paths.CHAMPION_SOURCES), b"tgz bytes")
    detail = reverse("champion-detail", args=[champion.pk])
    log = reverse("champion-log-download", args=[champion.pk])
    log_page = reverse("champion-log", args=[champion.pk])
    sources = reverse("champion-sources", args=[champion.pk])

    client.force_login(bob)
    assert client.get(log).status_code == 403
    assert client.get(log_page).status_code == 403
    assert client.get(sources).status_code == 403
    page = client.get(detail).content.decode()
    assert "compiled fine" not in page and sources not in page

    for reader in (alice, staff):
        client.force_login(reader)
        response = client.get(log)
        assert b"".join(response.streaming_content) == b"compiled fine\n"
        assert "attachment" in response["Content-Disposition"]
        assert "compiled fine" in text(client.get(log_page))
        response = client.get(sources)
        assert b"".join(response.streaming_content) == b"tgz bytes"
        assert "attachment" in response["Content-Disposition"]


def test_a_missing_log_is_a_404_not_a_crash(alice_client, alice):
    champion = ready_champion(alice)
    for name in ("champion-log", "champion-log-download"):
        response = alice_client.get(reverse(name, args=[champion.pk]))
        assert response.status_code == 404
        assert "not available" in text(response)


def test_soft_delete_by_its_author_only(client, alice, bob):
    champion = ready_champion(alice)
    delete = reverse("champion-delete", args=[champion.pk])

    client.force_login(bob)
    assert client.post(delete).status_code == 403
    client.force_login(alice)
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302

    champion.refresh_from_db()
    assert champion.deleted
    assert client.get(reverse("champion-detail", args=[champion.pk])).status_code == 404


def test_the_build_verdict_is_shown_to_the_author_and_staff_only(client, alice, bob, staff):
    champion = ready_champion(alice)
    Champion.objects.filter(pk=champion.pk).update(
        status=Champion.Status.ERROR,
        compile_verdict={"ended": "limit", "exit_status": None, "signal": "SIGKILL",
                         "limit": "cpu", "limit_value": "120 s", "cpu_ms": 120300,
                         "wall_ms": 130000, "peak_memory_kib": 300 * 1024,
                         "memory_from": "cgroup"})
    detail = reverse("champion-detail", args=[champion.pk])
    words = "stopped: used more than 120 s of CPU time"

    client.force_login(bob)
    assert words not in text(client.get(detail))
    for reader in (alice, staff):
        client.force_login(reader)
        page = text(client.get(detail))
        assert words in page and "CPU 120.30 s, wall 130.00 s, peak memory 300 MiB" in page
