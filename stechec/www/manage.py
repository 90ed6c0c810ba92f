"""`stechec-manage`: the site's manage.py, installed as a command."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stechec.www.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
