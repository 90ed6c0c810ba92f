"""`stechec`, the players' command-line client of the contest site's API (docs/cli.md).

It imports nothing else of the platform (no Django): a player installs it alone.
"""
