"""Tic-tac-toe, Python: plays a random free cell.

Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
The launcher runs Python unbuffered, so each print leaves at once.
"""

import random
import sys

for line in sys.stdin:
    me, board = line.split()
    cell = random.choice([i for i, mark in enumerate(board) if mark == "."])
    print(cell // 3, cell % 3)
