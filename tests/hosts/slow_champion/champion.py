"""Tic-tac-toe, Python: the first free cell, after thinking for a second each turn.

A match between two of these lasts ten seconds or so: long enough for a test
to cut a worker's network while the match runs there.
"""

import sys
import time

for line in sys.stdin:
    me, board = line.split()
    time.sleep(1.0)
    cell = board.index(".")
    print(cell // 3, cell % 3)
