"""Each of the worker's log lines about a task names it as stechec.common.tasks.describe
does ('champion 7 attempt 1'), so that one grep follows a task across master and workers."""

import re

from tests.conftest import wait_for


def test_a_refused_task_is_named_as_the_master_names_it(start_worker):
    worker = start_worker()
    task = {"champion_id": 7, "attempt": 1, "user": "alice", "slots": 5}
    assert worker.rpc.compile_champion(task) is False
    line = wait_for(lambda: re.search(r".*: refused: .*", worker.log()), "the refusal logged")
    assert "champion 7 attempt 1: refused: 5 slots asked, 4 free" in line.group(0)
