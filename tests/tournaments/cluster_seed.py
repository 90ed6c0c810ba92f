"""Run in a local cluster's site environment: COUNT players upload one sample champion each.

`python -m tests.tournaments.cluster_seed COUNT SAMPLE...`: player i uploads
the tictactoe sample SAMPLE number i modulo their number (say c-good,
c-random) through the site's own upload code, so the cluster's workers
compile them for real.
"""

import sys


def main():
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.files import File

    from stechec.local.seed import samples_dir, source_archive
    from stechec.www.contest.uploads import store_champion

    count, samples = int(sys.argv[1]), sys.argv[2:]
    for index in range(count):
        player = User.objects.create_user(f"player{index:02d}")
        sample = samples[index % len(samples)]
        archive = source_archive(f"{samples_dir('tictactoe')}/{sample}")
        with File(archive, name=f"{sample}.tgz") as upload:
            store_champion(player, f"{sample} {index}", "", upload)


if __name__ == "__main__":
    main()
