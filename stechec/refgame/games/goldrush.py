"""Gold rush, for 2 to 4 players on a map.

Every turn all players move at once, one step up, down, left or right, or
stay. Stepping on a coin takes it; players who reach the same coin on the same
turn each score it. The game ends when no coin is left or after the map's
number of turns. Score: the coins taken. A turn without a legal answer in time
is a stay. The map format is in docs/refgame.md.
"""

from stechec.refgame.games.base import Game, RulesError

WALL, FLOOR, COIN = "#", ".", "o"
STARTS = "1234"
MOVES = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1), "S": (0, 0)}
DEFAULT_TURNS = 100
MAX_SIDE = 40
MAX_TURNS = 10000


def parse_map(text, nb_players):
    """`(turns, walls, coins, starts)` from a map's text; RulesError naming the line."""
    turns = DEFAULT_TURNS
    rows = []
    grid_ended = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip()
        words = line.split()
        if not rows and (not line or line.startswith(";")):
            continue
        if rows and not line:
            grid_ended = True
            continue
        if grid_ended:
            raise RulesError(f"map line {number}: text after the grid's end (a blank line)")
        if not rows and words[0] == "turns":
            if len(words) != 2 or not words[1].isdigit() or not 1 <= int(words[1]) <= MAX_TURNS:
                raise RulesError(f"map line {number}: expected 'turns N' with N in 1..{MAX_TURNS}")
            turns = int(words[1])
            continue
        bad = set(line) - set(WALL + FLOOR + COIN + STARTS)
        if bad:
            raise RulesError(f"map line {number}: unexpected character {sorted(bad)[0]!r} "
                             f"(a map row holds only {WALL + FLOOR + COIN + STARTS!r})")
        if rows and len(line) != len(rows[0]):
            raise RulesError(f"map line {number}: {len(line)} cells where the first row "
                             f"has {len(rows[0])}")
        rows.append(line)
    if not rows:
        raise RulesError("map: no grid")
    if len(rows) > MAX_SIDE or len(rows[0]) > MAX_SIDE:
        raise RulesError(f"map: the grid is larger than {MAX_SIDE}x{MAX_SIDE}")
    starts = {}
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell in STARTS:
                if cell in starts:
                    raise RulesError(f"map: start {cell} appears twice")
                starts[cell] = (r, c)
    missing = [label for label in STARTS[:nb_players] if label not in starts]
    if missing:
        raise RulesError(f"map: no start {missing[0]} for {nb_players} players")
    walls = [[cell == WALL for cell in row] for row in rows]
    coins = {(r, c) for r, row in enumerate(rows) for c, cell in enumerate(row) if cell == COIN}
    return turns, walls, coins, [starts[label] for label in STARTS[:nb_players]]


class GoldRush(Game):
    name = "goldrush"
    min_players = 2
    max_players = len(STARTS)
    uses_map = True

    def __init__(self, nb_players, map_text):
        super().__init__(nb_players, map_text)
        self.max_turns, self.walls, self.coins, starts = parse_map(map_text, nb_players)
        self.height, self.width = len(self.walls), len(self.walls[0])
        self.positions = list(starts)
        self.taken = [0] * nb_players
        self.record(moves=None)

    def players_to_play(self):
        return list(range(self.nb_players))

    def grid(self):
        return "".join(WALL if self.walls[r][c] else COIN if (r, c) in self.coins else FLOOR
                       for r in range(self.height) for c in range(self.width))

    def request(self, seat):
        players = " ".join(f"{r} {c} {score}"
                           for (r, c), score in zip(self.positions, self.taken, strict=True))
        return (f"{seat} {self.nb_players} {self.max_turns - self.turn} "
                f"{self.height} {self.width} {self.grid()} {players}")

    def destination(self, seat, answer):
        """Where `answer` takes the player in `seat`, or None if it is not a legal move."""
        step = MOVES.get(answer.strip().upper())
        if step is None:
            return None
        r, c = self.positions[seat][0] + step[0], self.positions[seat][1] + step[1]
        if 0 <= r < self.height and 0 <= c < self.width and not self.walls[r][c]:
            return r, c
        return None

    def play(self, moves):
        illegal = set()
        played = [None] * self.nb_players
        for seat in range(self.nb_players):
            answer = moves.get(seat)
            if answer is None:
                continue
            destination = self.destination(seat, answer)
            if destination is None:
                illegal.add(seat)
                continue
            self.positions[seat] = destination
            played[seat] = answer.strip().upper()
        for seat, position in enumerate(self.positions):
            if position in self.coins:
                self.taken[seat] += 1
        self.coins.difference_update(self.positions)
        self.turn += 1
        self.record(moves=played)
        return illegal

    def is_over(self):
        return self.turn >= self.max_turns or not self.coins

    def scores(self):
        return list(self.taken)

    def dump_header(self):
        return {"height": self.height, "width": self.width, "turns": self.max_turns,
                "walls": ["".join(WALL if wall else FLOOR for wall in row) for row in self.walls]}

    def record(self, moves):
        self.states.append({"turn": self.turn,
                            "positions": [list(p) for p in self.positions],
                            "coins": sorted(list(p) for p in self.coins),
                            "scores": list(self.taken), "moves": moves})
