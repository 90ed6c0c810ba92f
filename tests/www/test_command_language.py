"""`stechec-manage` speaks the site's default language (website.language), its own
messages and the core's refusals alike."""

import pytest

from tests.www.test_health import manage, site_env


@pytest.mark.parametrize("language, refusals", [
    ("fr", ["CommandError: aucun tournoi 9999",
            "CommandError: un tournoi à 2 joueurs par match demande au moins 2 champions, "
            "pas 0"]),
    ("en", ["CommandError: no tournament 9999",
            "CommandError: a tournament with 2 players per match needs at least 2 champions, "
            "not 0"]),
])
def test_a_command_s_refusals_are_in_the_site_s_language(tmp_path, language, refusals):
    env = site_env(tmp_path, {"engine": "sqlite", "database": str(tmp_path / "db.sqlite3")},
                   language=language)
    assert manage(env, "migrate", "--verbosity", "0").returncode == 0
    launched = manage(env, "launch_tournament", "9999")
    created = manage(env, "create_tournament", "cup")
    assert [launched.returncode, created.returncode] == [1, 1]
    assert [launched.stderr.strip(), created.stderr.strip()] == refusals
