"""The task contract between the master and the workers (docs/rpc.md), in one place.

What a task is (`Kind`), the statuses a task goes through (`Status`), the
shapes of what the nodes send each other (the tasks a worker runs, the
results it sends back, the heartbeat's entries) and what became of a result
(`Outcome`, `Answer`). Both ends check what they receive with `check`, against
the same shapes: a payload's members, their types and bounds are declared
once, as TypedDicts (a payload stays the plain dict XML-RPC carries) whose
annotations `check` reads.

The enums are str-valued: a member is its string on the wire and in the
database, so nodes built before this module and after it read each other.
"""

import dataclasses
import enum
import functools
import types
import typing
import xmlrpc.client
from typing import Annotated, NamedTuple, NotRequired, TypedDict

from stechec.common.rpc import RPCError


class Kind(enum.StrEnum):
    """What a task does: compile a champion, or run a match."""

    COMPILE = "compile"
    MATCH = "match"

    @property
    def noun(self):
        """What logs call a task of this kind."""
        return "champion" if self is Kind.COMPILE else "match"

    @property
    def id_field(self):
        """The member of a task of this kind that holds its id."""
        return "champion_id" if self is Kind.COMPILE else "match_id"

    @property
    def run_method(self):
        """The worker's method that takes one task of this kind."""
        return "compile_champion" if self is Kind.COMPILE else "run_match"

    @property
    def result_method(self):
        """The master's method that takes one result of this kind."""
        return "compilation_result" if self is Kind.COMPILE else "match_done"

    @property
    def task_shape(self):
        return CompileTask if self is Kind.COMPILE else MatchTask

    @property
    def result_shape(self):
        return CompilationResult if self is Kind.COMPILE else MatchResult


class Status(enum.StrEnum):
    """A task's status: in the database (Champion.Status and Match.Status hold these
    values, with labels for the site) and, for the final ones, in results.

    `new` tasks wait in the queue, `pending` ones run on a worker; a compilation
    ends `ready` or `error` (the champion's fault), a match `done`; `failed` is
    the platform's fault (in a result: retried when it says so, up to the
    master's max_task_tries).
    """

    NEW = "new"
    PENDING = "pending"
    READY = "ready"
    ERROR = "error"
    DONE = "done"
    FAILED = "failed"


# The statuses a result gives.
COMPILATION_STATUSES = (Status.READY, Status.ERROR, Status.FAILED)
MATCH_STATUSES = (Status.DONE, Status.FAILED)


def describe(kind, task_id, attempt):
    """A task's attempt as logs name it: 'champion 3 attempt 2'."""
    return f"{Kind(kind).noun} {task_id} attempt {attempt}"


# The standard library's XML-RPC writer picks how to write a value by its exact type, and
# refuses an enum member: written as the string it is, a payload holding one is the same
# body as before.
for _enum in (Kind, Status):
    xmlrpc.client.Marshaller.dispatch[_enum] = xmlrpc.client.Marshaller.dump_unicode


# What becomes of a result.

class Outcome(enum.Enum):
    APPLIED = "applied"
    # Applied before: the same result again (its worker's answer was lost). The master
    # answers it as applied, changing nothing.
    REPEATED = "repeated"
    # Not applied: a stale attempt, an unknown or finished task.
    DROPPED = "dropped"
    # Refused by the master (say, a match's players that are not the match's).
    REFUSED = "refused"
    # The worker side only: the master stayed unreachable, so the result may or may not
    # have been applied.
    UNDELIVERED = "undelivered"


@dataclasses.dataclass(frozen=True)
class Answer:
    """The master's answer to one result: its outcome and, when refused, why.

    On the wire (docs/rpc.md) it is true (applied, now or before), false
    (dropped) or the refusal's text (`task_results`; the single-result methods
    answer a refusal with a fault).
    """

    outcome: Outcome
    refusal: str = ""

    @property
    def wire(self):
        """As `task_results` answers it."""
        if self.outcome is Outcome.REFUSED:
            return self.refusal
        if self.outcome is Outcome.UNDELIVERED:
            raise ValueError("an undelivered result has no answer")
        return self.outcome is not Outcome.DROPPED

    @classmethod
    def from_wire(cls, value):
        """The answer a worker got: true, false or a refusal's text."""
        if value is True:
            return cls(Outcome.APPLIED)
        if value is False:
            return cls(Outcome.DROPPED)
        if isinstance(value, str):
            return cls(Outcome.REFUSED, value)
        raise ValueError(f"not an answer to a result: {value!r}")


APPLIED = Answer(Outcome.APPLIED)
REPEATED = Answer(Outcome.REPEATED)
DROPPED = Answer(Outcome.DROPPED)
UNDELIVERED = Answer(Outcome.UNDELIVERED)


# Constraints on a member, as `Annotated` metadata: `check` applies them after the type.

class Rule(NamedTuple):
    holds: typing.Callable
    says: str


def at_least(low):
    return Rule(lambda value: value >= low, f"must be at least {low}")


def one_of(*values):
    return Rule(lambda value: value in values, f"expected one of {', '.join(values)}")


def _valid_user(name):
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


# Ids, attempts and slots count from 1.
Id = Annotated[int, at_least(1)]
Count = Annotated[int, at_least(0)]
Port = Annotated[int, Rule(lambda port: 0 < port < 65536, "must be between 1 and 65535")]
Hostname = Annotated[str, Rule(bool, "must not be empty")]
# A user's name is a directory's name in the shared directory.
UserName = Annotated[str, Rule(_valid_user, "not a valid user name")]
# A log's tail: base64 (bytes), what the program wrote; a string from workers older than
# that, accepted so that workers can be upgraded after the master. Only checked: the site
# reads logs from the shared directory.
Log = bytes | str


# The shapes: heartbeat.

class WorkerEntry(NamedTuple):
    """`worker`, the first argument of every call a worker makes: an array."""

    hostname: Hostname
    port: Port
    free_slots: Count
    max_slots: Count


class TaskRef(TypedDict):
    """A task's attempt, as the heartbeat's `running`, and the status() methods list them."""

    kind: Kind
    id: Id
    attempt: Id


# The shapes: tasks, from the master to a worker.

class CompileTask(TypedDict):
    """`compile_champion`'s task: the sources are champions/<user>/<champion_id>/champion.tgz."""

    champion_id: Id
    attempt: Id
    user: UserName
    slots: Id


class MatchTaskPlayer(TypedDict):
    matchplayer_id: Id
    champion_id: Id
    user: UserName


class MatchTask(TypedDict):
    """`run_match`'s task; players in seat order."""

    match_id: Id
    attempt: Id
    slots: Id
    # The map's contents; left out by no master, but read as none.
    map: NotRequired[str | None]
    options: str
    players: list[MatchTaskPlayer]


class KindOfTask(TypedDict):
    """What `run_tasks` adds to each task: its kind."""

    kind: Kind


# The shapes: results, from a worker to the master.

class CompilationResult(TypedDict):
    status: Annotated[str, one_of(*COMPILATION_STATUSES)]
    language: str
    log: Log
    reason: str


class MatchResultPlayer(TypedDict):
    matchplayer_id: Id
    champion_id: Id
    score: int | None
    nb_timeout: Count
    exit_status: int | None
    log: Log


class MatchResult(TypedDict):
    status: Annotated[str, one_of(*MATCH_STATUSES)]
    # Why, when failed.
    reason: str
    # Failed for the platform's reasons: try again.
    retryable: bool
    server_exit: int | None
    server_log: Log
    players: list[MatchResultPlayer]


class ResultEntry(TypedDict):
    """One entry of `task_results`: `result` is the kind's result."""

    kind: Kind
    id: Id
    attempt: Id
    result: dict


# The rules between a payload's members, checked once its members are.

def _match_task_rules(task, where):
    players = task["players"]
    _require(players, where, "players", "a match needs players")
    _require(len({p["matchplayer_id"] for p in players}) == len(players), where, "players",
             "matchplayer_id appears twice")
    # One program per slot at least: each runs as a sandbox user id of its own.
    _require(task["slots"] >= 1 + len(players), where, "slots",
             f"a match of {len(players)} players needs at least {1 + len(players)}")


def _match_result_rules(result, where):
    players = result["players"]
    _require(len({p["matchplayer_id"] for p in players}) == len(players), where, "players",
             "matchplayer_id appears twice")
    if result["status"] == Status.DONE:
        _require(all(p["score"] is not None for p in players), where, "players",
                 "a done match scores every player")


def _result_entry_rules(entry, where):
    check(Kind(entry["kind"]).result_shape, entry["result"], _path(where, "result"))


_RULES = {
    MatchTask: _match_task_rules,
    MatchResult: _match_result_rules,
    ResultEntry: _result_entry_rules,
}


# The validator.

def check(shape, value, where):
    """Refuse (RPCError naming the member at fault, from `where` on) a `value` that is not
    of `shape`: a type, a union, `list[...]`, an enum, a TypedDict (members it does not
    declare are let through: a newer sender's), a NamedTuple (an array of its fields), or
    an `Annotated` one of those with Rules; then the rules between its members."""
    rules = ()
    if typing.get_origin(shape) is Annotated:
        shape, *rules = typing.get_args(shape)
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        options = typing.get_args(shape)
        fitting = [option for option in options if _is_a(option, value)]
        if not fitting:
            raise RPCError(f"{where}: expected {' or '.join(map(_name, options))}")
        shape = fitting[0]
    elif not _is_a(shape, value):
        raise RPCError(f"{where}: expected {_name(shape)}")
    if typing.get_origin(shape) is list:
        [item] = typing.get_args(shape)
        for i, element in enumerate(value):
            check(item, element, f"{where}[{i}]")
    elif typing.is_typeddict(shape):
        for key in sorted(shape.__required_keys__ - value.keys()):
            raise RPCError(f"{_path(where, key)}: missing")
        for key, member in _hints(shape).items():
            if key in value:
                check(_required(member), value[key], _path(where, key))
    elif _is_named_tuple(shape):
        if len(value) != len(shape._fields):
            raise RPCError(f"{where}: expected {_name(shape)}")
        hints = _hints(shape)
        for key, element in zip(shape._fields, value, strict=True):
            check(hints[key], element, _path(where, key))
    for rule in rules:
        if not rule.holds(value):
            raise RPCError(f"{where}: {rule.says}")
    if shape in _RULES:
        _RULES[shape](value, where)


def check_task(task, where, kind=None):
    """Check a task as `kind`'s single-task method takes it, or (`kind` None) as one of
    `run_tasks`', which names its kind: return the kind."""
    if kind is None:
        check(KindOfTask, task, where)
        kind = task["kind"]
    kind = Kind(kind)
    check(kind.task_shape, task, where)
    return kind


def _is_a(shape, value):
    """Whether `value` is of the type `shape` (its members not looked at)."""
    if typing.get_origin(shape) is Annotated:
        shape = typing.get_args(shape)[0]
    if shape is None or shape is types.NoneType:
        return value is None
    if typing.get_origin(shape) is list:
        return isinstance(value, list)
    if typing.is_typeddict(shape) or shape is dict:
        return isinstance(value, dict)
    if _is_named_tuple(shape):
        return isinstance(value, list)
    if isinstance(shape, type) and issubclass(shape, enum.Enum):
        return isinstance(value, str) and value in shape._value2member_map_
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, shape)


def _name(shape):
    if typing.get_origin(shape) is Annotated:
        shape = typing.get_args(shape)[0]
    if shape is None or shape is types.NoneType:
        return "nil"
    if shape is list or typing.get_origin(shape) is list:
        return "an array"
    if typing.is_typeddict(shape) or shape is dict:
        return "a struct"
    if _is_named_tuple(shape):
        return f"[{', '.join(shape._fields)}]"
    if isinstance(shape, type) and issubclass(shape, enum.Enum):
        return "one of " + ", ".join(member.value for member in shape)
    return {int: "an integer", str: "a string", bool: "a boolean",
            bytes: "base64 (the log's bytes)"}[shape]


@functools.cache
def _hints(shape):
    return typing.get_type_hints(shape, include_extras=True)


def _required(member):
    return typing.get_args(member)[0] if typing.get_origin(member) is NotRequired else member


def _is_named_tuple(shape):
    return isinstance(shape, type) and issubclass(shape, tuple) and hasattr(shape, "_fields")


def _path(where, key):
    return f"{where}.{key}"


def _require(condition, where, key, what):
    if not condition:
        raise RPCError(f"{_path(where, key)}: {what}")
