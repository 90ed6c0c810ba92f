"""master-node.yml: its schema."""

from stechec.common.config import Key
from stechec.common.database import SQL_SCHEMA

PROGRAM = "master-node"

MASTER_SCHEMA = {
    "master": {
        # Address the RPC server listens on; workers and the site call it.
        "host": Key(str, "0.0.0.0"),
        "port": Key(int, 8067, minimum=0),
        # Prometheus metrics at http://host:metrics_port/metrics; none when empty.
        "metrics_port": Key(int, None, nullable=True, minimum=0),
        "shared_secret": Key(str, secret=True),
        "game": Key(str),
        # Lets shared_secret keep its placeholder, for a throwaway local cluster.
        "debug": Key(bool, False),
    },
    "worker": {
        # A worker silent for this long is dropped and its tasks go back to the queue.
        "timeout_secs": Key(float, 10.0, minimum=0.1),
        # Platform failures (lost worker, deadline, retryable error) tolerated per task.
        "max_task_tries": Key(int, 3, minimum=1),
        # A task given back after a platform failure waits this long before it
        # is claimed again, each next retry twice as long (at most 300 s).
        "retry_delay_secs": Key(float, 5.0, minimum=0.0),
        "compilation_deadline_secs": Key(float, 600.0, minimum=0.1),
        "match_deadline_secs": Key(float, 1800.0, minimum=0.1),
        # Slots a match takes per player, besides one for its server.
        "client_slots": Key(int, 1, minimum=0),
        # Timeout of each call to a worker (compile_champion, run_match, cancel).
        "rpc_timeout_secs": Key(float, 10.0, minimum=0.1),
    },
    "sql": SQL_SCHEMA,
    "dispatch": {
        # How often the queue is polled when nothing woke the dispatcher
        # (on SQLite the only way; on PostgreSQL NOTIFY wakes it at once).
        "poll_secs": Key(float, 1.0, minimum=0.01),
        # Most tasks taken from the queue in one transaction: enough to fill
        # every free slot at once, so that under a backlog each worker gets
        # its share of a batch in one call.
        "batch_size": Key(int, 1000, minimum=1),
        # Database connections on PostgreSQL (SQLite always uses one).
        "connections": Key(int, 4, minimum=1),
    },
    "ladder": {
        # Keep ranked matches going between tournaments (docs/tournaments.md).
        "enabled": Key(bool, False),
        # Ladder matches waiting or running at once, at background priority.
        "matches_in_flight": Key(int, 4, minimum=1),
        # Champions per ladder match (the game's players per match).
        "nb_players": Key(int, 2, minimum=2),
    },
}
