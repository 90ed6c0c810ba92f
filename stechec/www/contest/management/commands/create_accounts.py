"""`stechec-manage create_accounts FILE.csv [--mail]`: player accounts in bulk."""

import sys

from django.core.management.base import CommandError

from stechec.www.contest import bulk_accounts
from stechec.www.contest.management.site_language import SiteCommand


class Command(SiteCommand):
    help = ("Create the accounts of a CSV file (a header naming the columns username and "
            "email, then one account a line), each with a generated password; print "
            "username,email,password for each, and with --mail send each its password. "
            "A file with a bad line creates nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8); - reads standard input")
        parser.add_argument("--mail", action="store_true",
                            help="mail each new account its password (website.yml's mail)")
        parser.add_argument("--login-url", default="the contest site",
                            help="where the mails say to log in, e.g. https://contest.example/")

    def handle(self, *args, file, mail, login_url, **options):
        try:
            if file == "-":
                text = sys.stdin.read()
            else:
                with open(file, encoding="utf-8-sig") as f:
                    text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"{file}: cannot read it: {e}") from None
        try:
            accounts = bulk_accounts.create(bulk_accounts.read(text))
        except bulk_accounts.BadFile as e:
            raise CommandError(f"{file}: nothing created: {e}") from None
        self.stdout.write(bulk_accounts.as_csv(accounts), ending="")
        if mail:
            sent = bulk_accounts.mail(accounts, login_url)
            self.stderr.write(f"{sent} mails sent")
