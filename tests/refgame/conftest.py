import os

import pytest

from tests.refgame.helpers import SAMPLE_GAMES, SAMPLE_LANGUAGES, SHARE, build_champion


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """Every sample champion of share/champions, built with its Makefile:
    `samples[game, "c-good"]` is the path of its `champion` executable."""
    root = tmp_path_factory.mktemp("samples")
    built = {}
    for game in SAMPLE_GAMES:
        for lang in SAMPLE_LANGUAGES:
            for kind in ("random", "good"):
                name = f"{lang}-{kind}"
                build_dir = root / game / name
                made = build_champion(os.path.join(SHARE, "champions", game, name), build_dir)
                assert made.returncode == 0, f"{game}/{name}: make failed:\n{made.stderr}"
                built[game, name] = str(build_dir / "champion")
    return built
