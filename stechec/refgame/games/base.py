"""What every reference game provides to the server."""


class RulesError(ValueError):
    """The match cannot be played as asked (bad map, wrong number of players)."""


class Game:
    name = ""
    min_players = 2
    max_players = 2
    uses_map = False

    def __init__(self, nb_players, map_text=None):
        if not self.min_players <= nb_players <= self.max_players:
            raise RulesError(f"{self.name} is played by {self.min_players} to "
                             f"{self.max_players} players, not {nb_players}")
        self.nb_players = nb_players
        self.turn = 0
        self.states = []

    def players_to_play(self):
        """The seats asked for a move this turn."""
        raise NotImplementedError

    def request(self, seat):
        """The line told to the champion in `seat` (without its newline)."""
        raise NotImplementedError

    def play(self, moves):
        """Play one turn. `moves` maps each asked seat to its answer line, or
        None when it gave none in time; a seat with None or an illegal answer
        loses its move (see docs/refgame.md). Returns the seats whose answer
        was illegal."""
        raise NotImplementedError

    def is_over(self):
        raise NotImplementedError

    def scores(self):
        """One int per seat, higher is better."""
        raise NotImplementedError

    def dump(self, names):
        """The JSON-able record of the match: one state per turn."""
        return {"game": self.name, "players": names, "scores": self.scores(),
                **self.dump_header(), "states": self.states}

    def dump_header(self):
        return {}
