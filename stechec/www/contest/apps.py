from django.apps import AppConfig


class ContestSiteConfig(AppConfig):
    """The website's app: views, forms, templates, admin. The models are stechec.contest's."""

    name = "stechec.www.contest"
    label = "contest_site"
    verbose_name = "Contest website"

    def ready(self):
        # Registers the system checks on the database (stechec-manage check).
        from stechec.www.contest import health  # noqa: F401
