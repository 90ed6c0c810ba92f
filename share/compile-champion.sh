#!/bin/sh
# Compiles a champion: run by worker-node, in its sandbox, as
#
#   compile-champion.sh PLAYER_ENV LANGUAGE BUILD_DIR
#
# PLAYER_ENV holds one Makefile-<language> per language of the contest;
# BUILD_DIR holds the champion's unpacked sources. The Makefile is copied in
# as BUILD_DIR/Makefile and make runs there; it must produce the champion
# artifact (paths.champion_artifact, "champion" by default) in BUILD_DIR.
# Everything printed goes to the champion's compilation.log. The player
# environment's directory is also in $STECHEC_PLAYER_ENV, for Makefiles
# that include shared rules from it.
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 PLAYER_ENV LANGUAGE BUILD_DIR" >&2
    exit 2
fi
player_env=$1
language=$2
build_dir=$3
makefile=$player_env/Makefile-$language

if [ ! -f "$makefile" ]; then
    echo "compile-champion: no Makefile for the language '$language' in $player_env" >&2
    exit 2
fi
cd "$build_dir"
cp "$makefile" Makefile
exec make --no-print-directory
