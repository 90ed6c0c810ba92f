"""Run in a local cluster's site environment: COUNT players upload one sample champion each.

`python -m tests.tournaments.cluster_seed COUNT`: player i uploads the
tictactoe sample python-good or python-random (alternately) through the
site's own upload code, so the cluster's workers compile them for real.
"""

import sys


def main():
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.files import File

    from stechec.local.seed import samples_dir, source_archive
    from stechec.www.contest.uploads import store_champion

    samples = ["python-good", "python-random"]
    for index in range(int(sys.argv[1])):
        player = User.objects.create_user(f"player{index:02d}")
        sample = samples[index % 2]
        archive = source_archive(f"{samples_dir('tictactoe')}/{sample}")
        with File(archive, name=f"{sample}.tgz") as upload:
            store_champion(player, f"{sample} {index}", "", upload)


if __name__ == "__main__":
    main()
