from api import error, play

# The centre first, then the corners, then the edges.
PREFERENCE = [(1, 1), (0, 0), (0, 2), (2, 0), (2, 2), (0, 1), (1, 0), (1, 2), (2, 1)]


def init_game():
    pass


def play_turn():
    for cell in PREFERENCE:
        if play(cell) == error.OK:
            return


def end_game():
    pass
