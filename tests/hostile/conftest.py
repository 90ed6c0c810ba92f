"""The master's and the worker's own test fixtures, for the regression tests of refusals."""

from tests.master_node.conftest import cluster, player  # noqa: F401
from tests.worker_node.conftest import master, start_worker  # noqa: F401
