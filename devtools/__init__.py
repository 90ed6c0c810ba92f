"""What the developers run and the package does not ship: the chaos and hostile-input
campaigns (tools/chaos), their invariants, network namespaces and private PostgreSQL,
the archives and contest data the tests and benchmarks build, and the tools' venv
bootstrap. Imported from a checkout (the tests, tools/); never installed by pip or waf."""
