"""The contest's core: its data (Django app label `stechec`) and the rules and services on it.

Used by the website and the master node alike; it imports
neither. The layers, each importing only those before it:

- rules, plain Python over plain data: `standings`, `pairing`, `ratings`,
  `ladder_choice`, `reasons`;
- `models` (and `migrations`), which import no other module of the contest;
- the database side of the rules: `champion_ratings`, `tournament_points`,
  `tournaments`, `ladder`;
- `transitions`: every change of a task's status, and the application of
  workers' results.
"""
