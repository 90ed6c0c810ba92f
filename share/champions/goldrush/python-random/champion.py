"""Gold rush, Python: steps in a random direction that is not a wall.

Each turn the client sends one line:
  ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
The answer is one line: U, D, L or R (one step) or S (stay).
The input ends with the game. The launcher runs Python unbuffered.
"""

import random
import sys

STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}

for line in sys.stdin:
    words = line.split()
    me, nb_players, turns_left, height, width = map(int, words[:5])
    grid = words[5]
    players = [tuple(map(int, words[6 + 3 * p:9 + 3 * p])) for p in range(nb_players)]
    row, col, _ = players[me]
    choices = [name for name, (dr, dc) in STEPS.items()
               if 0 <= row + dr < height and 0 <= col + dc < width
               and grid[(row + dr) * width + col + dc] != "#"]
    print(random.choice(choices) if choices else "S")
