"""setuptools (the rest is in setup.cfg): share/ and docs/ go inside the package.

A pip install then carries what a waf install puts under P/share/stechec2:
sample configurations, compile script, player environment, units, gunicorn
and nginx samples (`stechec/share/`), and the manuals (`stechec/docs/`);
stechec.common.share finds them there.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["stechec", "stechec.*"]), "stechec.share",
              "stechec.docs"],
    package_dir={"stechec.share": "share", "stechec.docs": "docs"},
    package_data={
        "stechec.www": ["templates/**/*", "static/**/*", "replay_viewer/*", "locale/**/*"],
        "stechec.www.contest": ["templates/**/*", "static/**/*"],
        "stechec.refgame": ["maps/*"],
        "stechec.share": ["**/*"],
        "stechec.docs": ["*.md"],
    },
    exclude_package_data={"stechec.share": ["**/__pycache__/*"]},
)
