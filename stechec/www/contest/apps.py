from django.apps import AppConfig


class ContestConfig(AppConfig):
    name = "stechec.www.contest"
    # As in the original: tables are stechec_champion, stechec_match, ...
    label = "stechec"
    verbose_name = "Contest"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the system checks on the database (stechec-manage check).
        from stechec.www.contest import health  # noqa: F401
