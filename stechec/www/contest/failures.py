"""Failure rates for the status page's staff section: per language and per worker."""

from django.db.models import Count, Max, Q

from stechec.contest.models import Match, MatchPlayer

# The recent matches the rates cover: counting over every match ever played
# would cost the page more as the contest grows.
RECENT_MATCHES = 10_000

# A player whose champion failed (stechec.common.verdicts.failed, or timeouts).
FAILED_PLAYER = (Q(has_timeout=True) | Q(verdict__ended__in=["signal", "limit"])
                 | (Q(verdict__ended="exit") & ~Q(verdict__exit_status=0)))


def _percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0.0


def failure_rates():
    """{"languages": [...], "workers": [...]} over the last RECENT_MATCHES matches: per
    champion language, the players of done matches and how many failed; per worker (the
    one that ran a match's last attempt), the finished matches and how many were the
    platform's or a champion's fault."""
    newest = Match.objects.aggregate(newest=Max("id"))["newest"] or 0
    recent = Match.objects.filter(id__gt=newest - RECENT_MATCHES, status__in=Match.FINISHED)
    languages = (MatchPlayer.objects
                 .filter(match__in=recent.filter(status=Match.Status.DONE))
                 .values("champion__language")
                 .annotate(total=Count("id"), failed=Count("id", filter=FAILED_PLAYER))
                 .order_by("champion__language"))
    workers = (recent.exclude(worker="").values("worker")
               .annotate(total=Count("id"),
                         platform=Count("id", filter=Q(fault=Match.Fault.PLATFORM)),
                         champion=Count("id", filter=Q(fault=Match.Fault.CHAMPION)))
               .order_by("worker"))
    return {
        "recent": RECENT_MATCHES,
        "languages": [{"language": row["champion__language"] or "unknown",
                       "total": row["total"], "failed": row["failed"],
                       "percent": _percent(row["failed"], row["total"])}
                      for row in languages],
        "workers": [dict(row, platform_percent=_percent(row["platform"], row["total"]),
                         champion_percent=_percent(row["champion"], row["total"]))
                    for row in workers],
    }
