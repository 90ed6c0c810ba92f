"""Django settings, made from website.yml (see stechec.www.siteconfig)."""

import sys

from stechec.common.config import ConfigError
from stechec.www import siteconfig

try:
    globals().update(siteconfig.django_settings(siteconfig.load()))
except ConfigError as e:
    sys.exit(f"website: configuration error: {e}")
