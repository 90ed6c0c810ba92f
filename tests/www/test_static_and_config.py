"""Static files through whitenoise and collectstatic; the website.yml sample."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from stechec.common import config
from stechec.www import siteconfig

SAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "share", "website.yml")


@pytest.mark.django_db
def test_pages_get_their_css_through_whitenoise(alice_client):
    page = alice_client.get(reverse("home")).content.decode()
    assert '<link rel="stylesheet" href="/static/stechec/style.css">' in page

    css = alice_client.get("/static/stechec/style.css")

    assert css.status_code == 200
    assert css["Content-Type"].startswith("text/css")
    assert b".facts" in b"".join(css.streaming_content)


def test_collectstatic_gathers_the_sites_files(tmp_path):
    static_root = tmp_path / "static"
    with open(SAMPLE) as f:
        sample = f.read()
    yml = tmp_path / "website.yml"
    yml.write_text(sample.replace("debug: false", "debug: true")
                   .replace("/var/lib/stechec/static", str(static_root))
                   .replace("engine: postgresql", "engine: sqlite")
                   .replace("database: stechec", f"database: {tmp_path}/db.sqlite3"))
    env = {**os.environ, "STECHEC_WEBSITE_CONFIG": str(yml),
           "DJANGO_SETTINGS_MODULE": "stechec.www.settings"}

    # The installed command, as an operator runs it.
    manage = os.path.join(os.path.dirname(sys.executable), "stechec-manage")
    subprocess.run([manage, "collectstatic", "--noinput"], env=env, check=True,
                   capture_output=True, timeout=120)

    assert (static_root / "stechec" / "style.css").is_file()
    assert (static_root / "game" / "replay.js").is_file()
    assert (static_root / "admin" / "css" / "base.css").is_file()


def test_the_sample_loads_in_debug_mode_and_names_each_placeholder_otherwise():
    with open(SAMPLE) as f:
        sample = f.read()
    site = config.parse(sample.replace("debug: false", "debug: true"), "website.yml",
                        siteconfig.WEBSITE_SCHEMA, debug_key="website.debug")
    assert site["website"]["static_path"] is None
    assert site["website"]["archive_max_members"] == 2000

    with pytest.raises(config.ConfigError, match="website.secret_key: still set to CHANGEME"):
        config.parse(sample, "website.yml", siteconfig.WEBSITE_SCHEMA,
                     debug_key="website.debug")


def test_a_broken_configuration_stops_the_site_with_one_line(tmp_path):
    yml = tmp_path / "website.yml"
    yml.write_text("website:\n  secret_key: x\n  page_sise: 3\n")
    env = {**os.environ, "STECHEC_WEBSITE_CONFIG": str(yml),
           "DJANGO_SETTINGS_MODULE": "stechec.www.settings"}

    result = subprocess.run([sys.executable, "-m", "stechec.www.manage", "check"], env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert result.stderr.strip() == (f"website: configuration error: {yml}: website.page_sise: "
                                     "unknown key (did you mean 'website.page_size'?)")
