"""The bundled reference game runtime: a small implementation of the stechec2
server/client command-line contract, with champions that are ordinary programs
speaking a line protocol over stdin/stdout (see docs/refgame.md)."""
