"""The worker node: compiles champions and runs matches for the master node.

One module per concern: `settings` (the worker-node.yml schema), `limits` (a
program's limits: their schema and the Limits the sandbox takes), `sandbox`
(running untrusted programs under limits), `cgroups` (the limits that hold
for a program's whole tree) and `guard` (the process that watches a
sandboxed program and kills its tree), `workspace` (a job's private
working directory), `shared` (whether the shared directory is mounted),
`outputs` (an attempt's outputs published whole), `slots` (the task table),
`compilation` and `matches` (the two kinds of job), `master` (calls to the
master: heartbeat and results), `service` (the RPC methods), `metrics`
(its Prometheus metrics), `main` (the
daemon) and `check` (`worker-node --check`: one compilation and one match of a
given champion with the worker's configuration).
"""
