"""Tic-tac-toe for two players.

Player 0 moves first. A turn without a legal answer in time is a pass. The
game ends on a line of three, on a full board, or after 9 turns per player
(only passes make it last that long). Scores: win 2, draw 1, loss 0.
"""

from stechec.refgame.games.base import Game

SIZE = 3
MAX_TURNS = 2 * SIZE * SIZE
LINES = ([[(r, c) for c in range(SIZE)] for r in range(SIZE)]
         + [[(r, c) for r in range(SIZE)] for c in range(SIZE)]
         + [[(i, i) for i in range(SIZE)], [(i, SIZE - 1 - i) for i in range(SIZE)]])
WIN, DRAW, LOSS = 2, 1, 0


class TicTacToe(Game):
    name = "tictactoe"

    def __init__(self, nb_players, map_text=None):
        super().__init__(nb_players, map_text)
        self.board = [[None] * SIZE for _ in range(SIZE)]
        self.to_play = 0
        self.winner = None
        self.record(last_move=None)

    def players_to_play(self):
        return [self.to_play]

    def request(self, seat):
        cells = "".join("." if cell is None else str(cell) for row in self.board for cell in row)
        return f"{seat} {cells}"

    def parse_move(self, answer):
        try:
            row, col = (int(word) for word in answer.split())
        except ValueError:
            return None
        if 0 <= row < SIZE and 0 <= col < SIZE and self.board[row][col] is None:
            return row, col
        return None

    def play(self, moves):
        seat = self.to_play
        answer = moves.get(seat)
        move = None if answer is None else self.parse_move(answer)
        if move is not None:
            row, col = move
            self.board[row][col] = seat
            if any(all(self.board[r][c] == seat for r, c in line) for line in LINES):
                self.winner = seat
        self.turn += 1
        self.to_play = 1 - seat
        self.record(last_move=None if move is None else list(move))
        return {seat} if answer is not None and move is None else set()

    def is_over(self):
        full = all(cell is not None for row in self.board for cell in row)
        return self.winner is not None or full or self.turn >= MAX_TURNS

    def scores(self):
        if self.winner is None:
            return [DRAW if self.is_over() else 0] * self.nb_players
        return [WIN if seat == self.winner else LOSS for seat in range(self.nb_players)]

    def record(self, last_move):
        state = {"turn": self.turn, "board": [row[:] for row in self.board],
                 "last_move": last_move, "to_play": self.to_play}
        if self.is_over():
            state["winner"] = self.winner
        self.states.append(state)
