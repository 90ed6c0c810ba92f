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

from stechec.common import verdicts
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
    """What became of a result a worker sent."""

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
    # What is wrong with a value that breaks it; or a function of the value saying it.
    says: str | typing.Callable
    # The member's type in docs/rpc.md, `{}` standing for the type the rule narrows.
    shows: str


def at_least(low):
    return Rule(lambda value: value >= low, f"must be at least {low}", f"{{}} >= {low}")


def one_of(*values):
    return Rule(lambda value: value in values, f"expected one of {', '.join(values)}",
                " | ".join(f'"{value}"' for value in values))


def _valid_user(name):
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


# Ids, attempts and slots count from 1.
Id = Annotated[int, at_least(1)]
Count = Annotated[int, at_least(0)]
Port = Annotated[int, Rule(lambda port: 0 < port < 65536, "must be between 1 and 65535",
                           "{} (1 to 65535)")]
Hostname = Annotated[str, Rule(bool, "must not be empty", "{} (not empty)")]
# A user's name is a directory's name in the shared directory.
UserName = Annotated[str, Rule(_valid_user, "not a valid user name",
                               "{} (a user name: no '/', not '.' or '..')")]
# A log's tail: base64 (bytes), what the program wrote; a string from workers older than
# that, accepted so that workers can be upgraded after the master. Only checked: the site
# reads logs from the shared directory.
Log = bytes | str
# How a program ended and what it used (stechec.common.verdicts), optional: workers older
# than verdicts send none.
Verdict = Annotated[dict, Rule(lambda verdict: verdicts.problem(verdict) is None,
                               verdicts.problem, "{} (a verdict: see Verdicts)")]


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
    """A player of a match: its compiled champion is in champions/<user>/<champion_id>/."""

    matchplayer_id: Id
    champion_id: Id
    user: UserName


class MatchTask(TypedDict):
    """`run_match`'s task. Players in seat order, at least one, each matchplayer_id once;
    `slots` at least 1 + players (the master sends 1 + players × client_slots)."""

    match_id: Id
    attempt: Id
    slots: Id
    # The map's contents, nil for none; a task that leaves it out has none.
    map: NotRequired[str | None]
    options: str
    players: list[MatchTaskPlayer]


class KindOfTask(TypedDict):
    """What `run_tasks` adds to each CompileTask or MatchTask: its kind."""

    kind: Kind


# The shapes: results, from a worker to the master.

class CompilationResult(TypedDict):
    """`compilation_result`'s result. `ready`: compiled, artifact in place. `error`: the
    champion's fault (the reason is in its compilation log). `failed`: the platform's
    fault, retried up to max_task_tries. `log`: the compilation log's tail."""

    status: Annotated[str, one_of(*COMPILATION_STATUSES)]
    language: str
    log: Log
    reason: str
    verdict: NotRequired[Verdict]


class MatchResultPlayer(TypedDict):
    """A player's outcome: its score (nil when the match failed), its timeouts, its
    client's exit status (nil when killed) and its log's tail."""

    matchplayer_id: Id
    champion_id: Id
    score: int | None
    nb_timeout: Count
    exit_status: int | None
    log: Log
    verdict: NotRequired[Verdict]


class MatchResult(TypedDict):
    """`match_done`'s result. Each matchplayer_id once; a done match scores every player.
    A match the game itself cannot finish (the server crashed, or was killed at its
    wall-clock limit) is failed and retryable: every failed match is the platform's fault."""

    status: Annotated[str, one_of(*MATCH_STATUSES)]
    # Why, when failed.
    reason: str
    # Failed for the platform's reasons: try again.
    retryable: bool
    server_exit: int | None
    server_log: Log
    server_verdict: NotRequired[Verdict]
    players: list[MatchResultPlayer]


class ResultEntry(TypedDict):
    """One entry of `task_results`: `result` is a CompilationResult or a MatchResult, as
    `kind` says."""

    kind: Kind
    id: Id
    attempt: Id
    result: dict


# The rules between a payload's members, checked once its members are.

def _match_task_rules(task):
    players = task["players"]
    _require(players, "players", "a match needs players")
    _require(len({p["matchplayer_id"] for p in players}) == len(players), "players",
             "matchplayer_id appears twice")
    # One program per slot at least: each runs as a sandbox user id of its own.
    _require(task["slots"] >= 1 + len(players), "slots",
             f"a match of {len(players)} players needs at least {1 + len(players)}")


def _match_result_rules(result):
    players = result["players"]
    _require(len({p["matchplayer_id"] for p in players}) == len(players), "players",
             "matchplayer_id appears twice")
    if result["status"] == Status.DONE:
        _require(all(p["score"] is not None for p in players), "players",
                 "a done match scores every player")


def _result_entry_rules(entry):
    try:
        _checker(Kind(entry["kind"]).result_shape)(entry["result"])
    except _Unfit as e:
        raise e.inside(".result") from None


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
    try:
        _checker(shape)(value)
    except _Unfit as e:
        raise RPCError(f"{where}{''.join(reversed(e.path))}: {e.what}") from None


def check_task(task, where, kind=None):
    """Check a task as `kind`'s single-task method takes it, or (`kind` None) as one of
    `run_tasks`', which names its kind: return the kind."""
    if kind is None:
        check(KindOfTask, task, where)
        kind = task["kind"]
    kind = Kind(kind)
    check(kind.task_shape, task, where)
    return kind


class _Unfit(Exception):
    """A value that does not fit its shape: what is wrong, and where (the path's segments,
    innermost first, added as the exception leaves each level)."""

    def __init__(self, what, *path):
        super().__init__(what)
        self.what = what
        self.path = list(path)

    def inside(self, segment):
        self.path.append(segment)
        return self


def _require(condition, key, what):
    if not condition:
        raise _Unfit(what, f".{key}")


@functools.cache
def _checker(shape):
    """A function that raises _Unfit for a value not of `shape` (see `check`), built once
    per shape: the master checks every result it gets."""
    rules = ()
    if typing.get_origin(shape) is Annotated:
        shape, *rules = typing.get_args(shape)
    fits = _fits(shape)
    wrong_type = f"expected {_name(shape)}"
    members = _members(shape, wrong_type)
    between = _RULES.get(shape)
    if members is None and not rules and between is None:
        def checker(value):
            if not fits(value):
                raise _Unfit(wrong_type)
        return checker

    def checker(value):
        if not fits(value):
            raise _Unfit(wrong_type)
        if members is not None:
            members(value)
        for rule in rules:
            if not rule.holds(value):
                raise _Unfit(rule.says(value) if callable(rule.says) else rule.says)
        if between is not None:
            between(value)
    return checker


def _members(shape, wrong_type):
    """A function checking the members of a value of the type `shape`, None when they need
    no check."""
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        options = [(_fits(option), _checker(option)) for option in typing.get_args(shape)]
        if all(_members(_bare(option), "") is None and _bare(option) is option
               and option not in _RULES for option in typing.get_args(shape)):
            return None

        def members(value):
            next(inner for fits, inner in options if fits(value))(value)
        return members
    if typing.get_origin(shape) is list:
        item = _checker(typing.get_args(shape)[0])

        def members(value):
            for i, element in enumerate(value):
                try:
                    item(element)
                except _Unfit as e:
                    raise e.inside(f"[{i}]") from None
        return members
    if not (typing.is_typeddict(shape) or _is_named_tuple(shape)):
        return None
    hints = _hints(shape)
    array = _is_named_tuple(shape)
    keys = shape._fields if array else tuple(hints)
    required = () if array else sorted(shape.__required_keys__)
    inner = [(key, _checker(_required(hints[key]))) for key in keys]

    def members(value):
        if array:
            if len(value) != len(keys):
                raise _Unfit(wrong_type)
            value = dict(zip(keys, value, strict=True))
        for key in required:
            if key not in value:
                raise _Unfit("missing", f".{key}")
        for key, check_member in inner:
            if key in value:
                try:
                    check_member(value[key])
                except _Unfit as e:
                    raise e.inside(f".{key}") from None
    return members


def _bare(shape):
    """`shape` without its Annotated rules."""
    return typing.get_args(shape)[0] if typing.get_origin(shape) is Annotated else shape


def _fits(shape):
    """A test of whether a value is of the type `shape` (its members not looked at)."""
    shape = _bare(shape)
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        options = [_fits(option) for option in typing.get_args(shape)]
        if len(options) == 2:
            first, second = options
            return lambda value: first(value) or second(value)
        return lambda value: any(fits(value) for fits in options)
    if shape is None or shape is types.NoneType:
        return lambda value: value is None
    if typing.get_origin(shape) is list or _is_named_tuple(shape):
        return lambda value: type(value) is list or isinstance(value, list)
    if typing.is_typeddict(shape):
        return lambda value: type(value) is dict or isinstance(value, dict)
    if isinstance(shape, type) and issubclass(shape, enum.Enum):
        values = shape._value2member_map_
        return lambda value: isinstance(value, str) and value in values
    if shape is int:
        return lambda value: type(value) is int or (isinstance(value, int)
                                                    and not isinstance(value, bool))
    return lambda value: isinstance(value, shape)


def _name(shape):
    if typing.get_origin(shape) is Annotated:
        shape = typing.get_args(shape)[0]
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        return " or ".join(map(_name, typing.get_args(shape)))
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


# docs/rpc.md's "Shapes", written from the declarations above (tests/common/test_tasks.py
# checks that the document holds them): `python -m stechec.common.tasks` prints them.

SHAPES = (WorkerEntry, TaskRef, CompileTask, MatchTask, MatchTaskPlayer, KindOfTask,
          CompilationResult, MatchResult, MatchResultPlayer, ResultEntry)


def shapes_text():
    """Every shape of SHAPES as docs/rpc.md shows it: its docstring, then its members."""
    blocks = []
    for shape in SHAPES:
        lines = [f"# {line.strip()}" for line in (shape.__doc__ or "").splitlines()
                 if line.strip()]
        hints = _hints(shape)
        if _is_named_tuple(shape):
            members = [f"    {key}: {_shown(hints[key])}," for key in shape._fields]
            lines += [f"{shape.__name__} = [", *members, "]"]
        else:
            members = [f'    "{key}"{"" if key in shape.__required_keys__ else "?"}: '
                       f"{_shown(_required(member))}," for key, member in hints.items()]
            lines += [f"{shape.__name__} = {{", *members, "}"]
        blocks.append("\n".join(lines))
    return "```\n" + "\n\n".join(blocks) + "\n```\n"


def _shown(shape):
    rules = ()
    if typing.get_origin(shape) is Annotated:
        shape, *rules = typing.get_args(shape)
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        text = " | ".join(map(_shown, typing.get_args(shape)))
    elif typing.get_origin(shape) is list:
        text = f"[{_shown(typing.get_args(shape)[0])}, ...]"
    elif typing.is_typeddict(shape) or _is_named_tuple(shape):
        text = shape.__name__
    elif isinstance(shape, type) and issubclass(shape, enum.Enum):
        text = " | ".join(f'"{member}"' for member in shape)
    else:
        text = {types.NoneType: "nil", int: "int", str: "str", bool: "bool", bytes: "base64",
                dict: "struct"}[shape]
    for rule in rules:
        text = rule.shows.replace("{}", text)
    return text


if __name__ == "__main__":
    print(shapes_text(), end="")
