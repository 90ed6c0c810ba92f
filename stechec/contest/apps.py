from django.apps import AppConfig


class ContestConfig(AppConfig):
    name = "stechec.contest"
    # As in the original: tables are stechec_champion, stechec_match, ...
    label = "stechec"
    verbose_name = "Contest"
    default_auto_field = "django.db.models.BigAutoField"
