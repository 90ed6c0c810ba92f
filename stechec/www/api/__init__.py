"""The players' REST API under /api/v1/ (docs/api.md): what the site's pages do, through
the same rule functions (stechec.www.contest.rules)."""
