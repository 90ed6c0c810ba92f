"""Gold rush, Python: walks the shortest path to the nearest coin.

Each turn the client sends one line:
  ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
The answer is one line: U, D, L or R (one step) or S (stay).
The input ends with the game. The launcher runs Python unbuffered.
"""

import collections
import sys

STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}


def first_step(grid, height, width, start):
    """The first step towards the nearest coin (breadth-first), or S when none is reachable."""
    first = {start: None}
    queue = collections.deque([start])
    while queue:
        row, col = queue.popleft()
        if grid[row * width + col] == "o" and (row, col) != start:
            return first[(row, col)]
        for name, (dr, dc) in STEPS.items():
            cell = (row + dr, col + dc)
            if (0 <= cell[0] < height and 0 <= cell[1] < width and cell not in first
                    and grid[cell[0] * width + cell[1]] != "#"):
                first[cell] = first[(row, col)] or name
                queue.append(cell)
    return "S"


for line in sys.stdin:
    words = line.split()
    me, nb_players, turns_left, height, width = map(int, words[:5])
    grid = words[5]
    players = [tuple(map(int, words[6 + 3 * p:9 + 3 * p])) for p in range(nb_players)]
    row, col, _ = players[me]
    print(first_step(grid, height, width, (row, col)))
