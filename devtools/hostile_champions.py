"""Hostile champions: their C sources, and the campaign that plays them through the site.

`sources()` is the one definition of the hostile champions (fork bomb, 10 GB
allocation, infinite loop, sleep forever, writing outside its directory,
connecting to a loopback port and to the internet, printing 1 GB, printing
control bytes, a tree of 8 forked children holding 200 MB each, a thread bomb,
a child that outlives its parent, filling its directory, writing to
/dev/shm), for any game protocol: the worker's tests (tests/worker_node/
test_hostile_champions.py) play them against the stand-in game, and
`attack()` writes them against the tic-tac-toe protocol: each is uploaded by
a user of its own, compiled by a worker, and plays one match against a
well-behaved champion. Each match must end (done, or failed with a reason),
and nothing a champion tried may be seen outside its sandbox. The champion
printing control bytes must not void its match: it ends done, its log in the
shared directory holds the bytes as printed, and its log page shows them
visible, never raw.
"""

import os
import time

from devtools.hostile_site import tgz
from stechec.common import paths
from stechec.common.tasks import COMPILATION_STATUSES, MATCH_STATUSES, Status

HEAD = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n"
# Plays the first free cell for as long as the game asks.
TICTACTOE_PLAY_LOOP = """
    int me; char board[10];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%d %9s", &me, board) == 2) {
        int cell = (int)(strchr(board, '.') - board);
        printf("%d %d\\n", cell / 3, cell % 3);
    }
    return 0;
"""
# Who uploads the hostile champions, in turn: the site allows 5 uploads a minute each.
AUTHORS = ("mallory0", "mallory1", "mallory2")
# System files the "write outside" champion tries to create besides the callers'.
SYSTEM_TARGETS = ("/etc/stechec-escaped", "/usr/stechec-escaped")
# Markers a champion prints when it got out of its sandbox.
ESCAPE_MARKERS = ("WROTE ", "CONNECTED")
# Who the "network" champion tries on 127.0.0.1 in the campaign.
MASTER = "the master"
# What the "control bytes" champion prints on stderr (its player's log): an engine-style
# coloured tag, every byte value, invalid UTF-8. A log holding them used to make a result
# that was not XML, refused by the master: the match was voided.
PRINTED_BYTES = (b"[\x1b[1;31mchampion\x1b[0m] every byte: " + bytes(range(256))
                 + b" invalid UTF-8: \xff\xfe\xc3\x28\n")
# ... and the warning its compilation prints (its compilation log): colours and controls.
COMPILE_WARNING = "\x1b[1;33mcoloured\x1b[0m warning with controls \x01\x02\x07\x1f\x7f"
# What a champion prints when its attempt failed, proving it ran.
TRIED = {"fork bomb": ("fork refused",), "write outside": ("stechec-escaped: ",),
         "network": (f"connect to {MASTER}: ", "connect to the internet: "),
         "thread bomb": ("thread refused after",), "outliving child": ("left a child",),
         "write to /dev/shm": ("/dev/shm: ",)}
# Where the "/dev/shm" champion writes: no file of that name may be left there.
SHM_FILE = "/dev/shm/stechec-hostile"


def c_string(text):
    """`text` as a C string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sources(play_loop, *, outside, port, port_owner):
    """name -> C source of each hostile champion.

    `play_loop` ends main(), playing the game's protocol: the champions that
    survive their own attack play on, so that their score shows they kept
    running. The "write outside" champion tries to create each path of
    `outside`, then SYSTEM_TARGETS; the "network" champion connects to
    127.0.0.1:`port`, naming it `port_owner` in its error message, then to
    the internet.
    """
    targets = ", ".join(c_string(path) for path in (*outside, *SYSTEM_TARGETS))
    loopback = f"{port}, {c_string('connect to ' + port_owner)}"
    return {
        "fork bomb": HEAD + """
int main(void) {
    for (;;)
        if (fork() < 0) { fprintf(stderr, "fork refused\\n"); pause(); }
}
""",
        "10 GB allocation": HEAD + """
int main(void) {
    size_t size = 10UL << 30;
    char *p = malloc(size);
    if (!p) { perror("malloc"); return 1; }
    memset(p, 1, size);
""" + play_loop + "}\n",
        "infinite loop": HEAD + "int main(void) { for (;;) {} }\n",
        "sleep forever": HEAD + "int main(void) { for (;;) sleep(1000); }\n",
        "write outside": HEAD + """
int main(void) {
    const char *targets[] = {""" + targets + """};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        FILE *f = fopen(targets[i], "w");
        if (f) { fputs("escaped", f); fclose(f); fprintf(stderr, "WROTE %s\\n", targets[i]); }
        else perror(targets[i]);
    }
""" + play_loop + "}\n",
        "network": HEAD + """
#include <arpa/inet.h>
#include <sys/socket.h>
static void try_connect(unsigned long ip, int port, const char *what) {
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(ip);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) == 0) fprintf(stderr, "CONNECTED\\n");
    else perror(what);
}
int main(void) {
    try_connect(0x7f000001, """ + loopback + """);
    try_connect(0x01010101, 80, "connect to the internet");
""" + play_loop + "}\n",
        "control bytes": f"#warning {COMPILE_WARNING}\n" + HEAD + """
static const unsigned char printed[] = {""" + ", ".join(map(str, PRINTED_BYTES)) + """};
int main(void) {
    fwrite(printed, 1, sizeof printed, stderr);
    fflush(stderr);
""" + play_loop + "}\n",
        "memory tree": HEAD + """
int main(void) {
    int allocated[2];
    char byte;
    if (pipe(allocated)) { perror("pipe"); return 1; }
    for (int i = 0; i < 8; i++)
        if (fork() == 0) {
            size_t size = 200UL << 20;
            /* volatile: a compiler drops a memset of memory nothing reads. */
            volatile char *p = malloc(size);
            if (!p) { perror("malloc"); _exit(1); }
            for (size_t at = 0; at < size; at += 4096) p[at] = 1;
            if (write(allocated[1], "x", 1) != 1) _exit(1);
            for (;;) pause();
        }
    /* It plays once its 8 children hold their 200 MB each: never, under a limit. */
    for (int i = 0; i < 8; i++)
        if (read(allocated[0], &byte, 1) != 1) { perror("read"); return 1; }
    fprintf(stderr, "8 children hold 200 MB each\\n");
""" + play_loop + "}\n",
        "thread bomb": HEAD + """
#include <pthread.h>
static void *sleeper(void *arg) { for (;;) pause(); return arg; }
int main(void) {
    pthread_t thread;
    int n = 0;
    while (pthread_create(&thread, NULL, sleeper, NULL) == 0) n++;
    fprintf(stderr, "thread refused after %d threads\\n", n);
    for (;;) pause();
}
""",
        "outliving child": HEAD + """
#include <sys/wait.h>
int main(void) {
    if (fork() == 0) {
        setsid();
        if (fork() == 0) for (;;) pause();
        _exit(0);
    }
    wait(NULL);
    fprintf(stderr, "left a child behind\\n");
""" + play_loop + "}\n",
        "fill directory": HEAD + """
int main(void) {
    static char block[1 << 20];
    char name[32];
    for (int i = 0;; i++) {
        snprintf(name, sizeof name, "fill-%d", i);
        FILE *f = fopen(name, "w");
        if (!f || fwrite(block, 1, sizeof block, f) != sizeof block || fclose(f)) {
            perror(name);
            break;
        }
    }
""" + play_loop + "}\n",
        "write to /dev/shm": HEAD + """
int main(void) {
    static char block[1 << 20];
    FILE *f = fopen(""" + c_string(SHM_FILE) + """, "w");
    if (!f) perror("/dev/shm");
    else {
        for (int i = 0; i < 2048 && fwrite(block, 1, sizeof block, f) == sizeof block; i++) {}
        fclose(f);
        fprintf(stderr, "WROTE /dev/shm\\n");
    }
""" + play_loop + "}\n",
        "print 1 GB": HEAD + """
int main(void) {
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 1024; i++) fwrite(block, 1, sizeof block, stderr);
""" + play_loop + "}\n",
    }


def escape_targets(cluster):
    """Files the "write outside" champion tries to create: outside, and in the shared dir."""
    return [os.path.join(cluster.var_dir, "escaped"), os.path.join(cluster.shared_dir, "escaped")]


def archives(cluster):
    """name -> .tgz of each hostile champion, playing tic-tac-toe against this cluster."""
    return {name: tgz({"_lang": b"c\n", "champion.c": source.encode()})
            for name, source in sources(TICTACTOE_PLAY_LOOP, outside=escape_targets(cluster),
                                        port=cluster.master_port, port_owner=MASTER).items()}


def wait_for(state, table, ids, finished, timeout):
    """Wait until every row `ids` of `table` has a status in `finished`; their statuses."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = {pk: state.query(f'SELECT status FROM "{table}" WHERE id = %s', (pk,))[0][0]
                    for pk in ids}
        if all(s in finished for s in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(1)


def check_match_outputs(tally, cluster, match_id, name):
    """The champion ran, its logs show no escape, and it wrote nothing outside."""
    directory = paths.published(paths.match_dir(cluster.shared_dir, cluster.game, match_id))
    logs = b"".join(open(os.path.join(directory, log), "rb").read()
                    for log in sorted(os.listdir(directory)) if log.endswith(".log"))
    for marker in ESCAPE_MARKERS:
        if marker.encode() in logs:
            tally.accepted_bad(f"hostile champion {name}",
                               f"match {match_id}'s logs say {marker!r}: it got out")
    # The check must be able to fail: the champion did run and try.
    for words in ("champion started", *TRIED.get(name, ())):
        if words.encode() not in logs:
            tally.accepted_bad(f"hostile champion {name}",
                               f"match {match_id}'s logs lack {words!r}: did it run?")
    for path in [*escape_targets(cluster), SHM_FILE]:
        if os.path.exists(path):
            tally.accepted_bad(f"hostile champion {name}", f"it wrote {path}")


def check_verdict(tally, state, match_id, champion_id, name):
    """The worker said how the champion's program ended, and the master kept it."""
    [(verdict,)] = state.query("SELECT verdict FROM stechec_matchplayer WHERE match_id = %s "
                               "AND champion_id = %s", (match_id, champion_id))
    if verdict is None:
        tally.accepted_bad(f"hostile champion {name}",
                           f"match {match_id} holds no verdict for it")


def check_control_bytes(tally, cluster, state, author, champion_id, match_id, status):
    """The "control bytes" champion did not void its match: done, its log holds what it
    printed, and its author's log pages show those bytes visible, never raw."""
    what = "hostile champion control bytes"
    if status != Status.DONE:
        tally.accepted_bad(what, f"match {match_id} ended {status}, not done: its result was "
                                 "refused?")
    [(player_id,)] = state.query("SELECT id FROM stechec_matchplayer WHERE match_id = %s AND "
                                 "champion_id = %s", (match_id, champion_id))
    directory = paths.published(paths.match_dir(cluster.shared_dir, cluster.game, match_id))
    with open(os.path.join(directory, paths.player_log_name(player_id, champion_id)), "rb") as f:
        if PRINTED_BYTES not in f.read():
            tally.accepted_bad(what, f"match {match_id}'s log lacks the bytes it printed")
    # A \x01 of the compiler's warning and an ESC the champion printed, shown visible.
    for path, symbol in ((f"champions/{champion_id}/log/", 'ctl">\\x01</span>'),
                         (f"matches/{match_id}/players/{player_id}/log/",
                          'ctl">\\x1b</span>')):
        tally.input()
        status, body, _ = author.get(path)
        try:
            page = body.decode("utf-8")
        except UnicodeDecodeError as e:
            tally.accepted_bad(f"GET {path} as {author}", f"not UTF-8: {e}")
            continue
        raw = sorted({c for c in page if c < " " and c not in "\t\n\r" or c == "\x7f"})
        if status != 200 or symbol not in page:
            tally.accepted_bad(f"GET {path} as {author}", f"HTTP {status}, {symbol} not shown")
        if raw:
            tally.accepted_bad(f"GET {path} as {author}", f"raw control characters {raw!r}")


def leftover_processes(cluster):
    """Pids of processes still running as one of the workers' sandbox user ids."""
    ranges = [range(first, first + max(1000, cluster.slots)) for first in cluster.first_uids]
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{entry}").st_uid
        except FileNotFoundError:
            continue
        if any(uid in r for r in ranges):
            pids.append(int(entry))
    return pids


def attack(tally, cluster, state, clients, context, timeout):
    """Upload each hostile champion, play it against a good one, check every match ended."""
    champions, authors = {}, {}
    for index, (name, archive) in enumerate(archives(cluster).items()):
        tally.input()
        authors[name] = clients[AUTHORS[index % len(AUTHORS)]]
        champions[name] = context["upload"](authors[name], name, archive)
    statuses = wait_for(state, "stechec_champion", champions.values(),
                        set(COMPILATION_STATUSES), timeout)
    matches = {}
    for name, pk in champions.items():
        if statuses[pk] != Status.READY:
            tally.accepted_bad(f"hostile champion {name}", f"compilation ended {statuses[pk]}")
            continue
        matches[name] = context["launch"](authors[name], pk, context["alice_champion"])
    ended = wait_for(state, "stechec_match", matches.values(), set(MATCH_STATUSES), timeout)
    for name, match_id in matches.items():
        if ended[match_id] not in MATCH_STATUSES:
            tally.crash(f"hostile champion {name}", f"match {match_id} still "
                        f"{ended[match_id]} after {timeout} s")
        check_match_outputs(tally, cluster, match_id, name)
        if ended[match_id] == "done":
            check_verdict(tally, state, match_id, champions[name], name)
    if "control bytes" in matches:
        check_control_bytes(tally, cluster, state, authors["control bytes"],
                            champions["control bytes"], matches["control bytes"],
                            ended[matches["control bytes"]])
    deadline = time.monotonic() + 30
    while leftover_processes(cluster) and time.monotonic() < deadline:
        time.sleep(1)
    for pid in leftover_processes(cluster):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
        tally.accepted_bad("hostile champions", f"process {pid} left behind: {command}")
    return ended
