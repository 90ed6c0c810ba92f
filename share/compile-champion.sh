#!/bin/sh
# Compiles a champion: run by worker-node, in its sandbox, as
#
#   compile-champion.sh PLAYER_ENV LANGUAGE BUILD_DIR
#
# PLAYER_ENV is laid out as stechec2's generator writes it: one folder per
# language, PLAYER_ENV/LANGUAGE/Makefile-LANGUAGE holding the rules that the
# player's `make tar` and this compilation share. BUILD_DIR holds the
# champion's unpacked archive. make runs there, on those rules, in server
# mode (STECHEC_SERVER=1: every file of the archive is a champion file), and
# must leave the champion artifact (paths.champion_artifact) in BUILD_DIR.
# Everything printed goes to the champion's compilation.log. The player
# environment's directory is also in $STECHEC_PLAYER_ENV.
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 PLAYER_ENV LANGUAGE BUILD_DIR" >&2
    exit 2
fi
player_env=$1
language=$2
build_dir=$3
makefile=$player_env/$language/Makefile-$language

if [ ! -f "$makefile" ]; then
    echo "compile-champion: no $language/Makefile-$language in $player_env" >&2
    exit 2
fi
cd "$build_dir"
export STECHEC_SERVER=1
exec make --no-print-directory -f "$makefile" all
