"""Tic-tac-toe, Python: plays perfectly (full minimax search), so it never loses.

Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
The launcher runs Python unbuffered, so each print leaves at once.
"""

import functools
import sys

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


def wins(board, mark):
    return any(all(board[i] == mark for i in line) for line in LINES)


@functools.cache
def minimax(board, mark, other):
    """(value, cell) for the player with `mark` to move: value 1 win, 0 draw,
    -1 loss with perfect play on both sides."""
    best = (-2, None)
    for cell, current in enumerate(board):
        if current != ".":
            continue
        after = board[:cell] + mark + board[cell + 1:]
        value = 1 if wins(after, mark) else -minimax(after, other, mark)[0]
        if value > best[0]:
            best = (value, cell)
    return best if best[1] is not None else (0, None)


for line in sys.stdin:
    me, board = line.split()
    _, cell = minimax(board, me, "1" if me == "0" else "0")
    print(cell // 3, cell % 3)
