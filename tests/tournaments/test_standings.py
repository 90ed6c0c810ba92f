"""Tournament points, ranks with ex-aequo, the matrix and the CSV export."""

import csv
import io

import pytest

from stechec.contest.standings import (
    MatchResult,
    compute,
    results_from_rows,
    write_csv,
    write_matrix_csv,
)


def test_points_win_two_draw_one_each_loss_zero_for_any_number_of_players():
    assert MatchResult(1, ((1, 5), (2, 3))).points() == {1: 2, 2: 0}
    assert MatchResult(2, ((1, 4), (2, 4))).points() == {1: 1, 2: 1}
    assert MatchResult(3, ((1, 1), (2, 9), (3, 4))).points() == {1: 0, 2: 2, 3: 0}
    assert MatchResult(4, ((1, 9), (2, 9), (3, 4), (4, 9))).points() == {1: 1, 2: 1, 3: 0, 4: 1}


def test_ranks_share_ex_aequo_and_break_ties_on_cumulative_score():
    results = [
        MatchResult(1, ((1, 10), (2, 0))),   # 1 wins
        MatchResult(2, ((3, 5), (4, 1))),    # 3 wins
        MatchResult(3, ((2, 7), (4, 7))),    # draw
        MatchResult(4, ((5, 2), (6, 2))),    # draw
    ]
    standings = compute([1, 2, 3, 4, 5, 6], results)
    table = [(row.rank, row.champion, row.points, row.score) for row in standings.rows]
    assert table == [
        (1, 1, 2, 10),
        (2, 3, 2, 5),   # same points as 1, lower cumulative score
        (3, 4, 1, 8),
        (4, 2, 1, 7),
        (5, 5, 1, 2),   # 5 and 6: equal points and score, ex aequo
        (5, 6, 1, 2),
    ]
    assert (standings.rows[0].wins, standings.rows[0].played) == (1, 1)
    assert [(r.wins, r.draws, r.losses) for r in standings.rows[2:4]] == [(0, 1, 1), (0, 1, 1)]


def test_ranks_one_two_two_four():
    results = [MatchResult(1, ((1, 3), (2, 1), (3, 1), (4, 0))),
               MatchResult(2, ((2, 1), (3, 1), (4, 0), (1, 0)))]
    ranks = {row.champion: row.rank for row in compute([1, 2, 3, 4], results).rows}
    # 1: 2+0 points; 2 and 3: 0+1 points, score 2 each; 4: 0.
    assert ranks == {1: 1, 2: 2, 3: 2, 4: 4}


def test_each_match_counts_once_and_failed_ones_are_excluded_and_listed():
    win = MatchResult(7, ((1, 1), (2, 0)))
    failed = MatchResult(8, ((1, None), (2, None)), failed=True)
    standings = compute([1, 2], [win, failed, win])
    assert [(row.champion, row.points, row.played) for row in standings.rows] == \
        [(1, 2, 1), (2, 0, 1)]
    assert standings.failed == [8]
    with pytest.raises(ValueError, match="match 7 is given twice with different results"):
        compute([1, 2], [win, MatchResult(7, ((1, 0), (2, 1)))])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="match 3: champion 9 is not in the tournament"):
        compute([1, 2], [MatchResult(3, ((1, 0), (9, 1)))])
    with pytest.raises(ValueError, match="match 4: a finished match has a player without"):
        MatchResult(4, ((1, 0), (2, None)))
    with pytest.raises(ValueError, match="match 5: a match needs at least 2 players"):
        MatchResult(5, ((1, 0),))
    with pytest.raises(ValueError, match="champion 3 has a bye but is not in the tournament"):
        compute([1, 2], [], byes={3: 1})


def test_a_bye_is_worth_a_win_without_score():
    standings = compute([1, 2, 3], [MatchResult(1, ((1, 0), (2, 0)))], byes={3: 1})
    assert [(row.champion, row.points, row.score, row.byes, row.played)
            for row in standings.rows] == [(3, 2, 0, 1, 0), (1, 1, 0, 0, 1), (2, 1, 0, 0, 1)]


def test_matrix_holds_head_to_head_points():
    results = [MatchResult(1, ((1, 3), (2, 1))), MatchResult(2, ((2, 2), (1, 2))),
               MatchResult(3, ((1, 5), (2, 4), (3, 5)))]
    matrix = compute([1, 2, 3], results).matrix
    assert matrix == {(1, 2): 2 + 1 + 2, (2, 1): 0 + 1 + 0,
                      (1, 3): 1, (3, 1): 1, (2, 3): 0, (3, 2): 2}


def test_csv_export_reads_back():
    results = [MatchResult(1, ((1, 3), (2, 1))), MatchResult(2, ((3, 2), (1, 2)))]
    standings = compute([1, 2, 3], results)
    names = {1: "alice/v2", 2: "bob/best, really", 3: "carol/x"}
    out = io.StringIO()
    write_csv(standings, out, names)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["rank"], r["champion_id"], r["name"], r["points"]) for r in rows] == [
        ("1", "1", "alice/v2", "3"), ("2", "3", "carol/x", "1"),
        ("3", "2", "bob/best, really", "0")]
    out = io.StringIO()
    write_matrix_csv(standings, out, names)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["", "alice/v2", "carol/x", "bob/best, really"],
        ["alice/v2", "", "1", "2"],
        ["carol/x", "1", "", ""],
        ["bob/best, really", "0", "", ""],
    ]


def test_results_from_rows_groups_one_query():
    rows = [(4, False, 1, 3), (4, False, 2, 0), (5, True, 2, None), (5, True, 1, None),
            (6, False, 3, 1), (6, False, 1, 1), (6, False, 2, 0)]
    assert results_from_rows(rows) == [
        MatchResult(4, ((1, 3), (2, 0))),
        MatchResult(5, ((2, None), (1, None)), failed=True),
        MatchResult(6, ((3, 1), (1, 1), (2, 0))),
    ]
    assert results_from_rows([]) == []
