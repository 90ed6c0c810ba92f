"""The master node: hands the database's queued tasks to worker nodes and records their results."""
