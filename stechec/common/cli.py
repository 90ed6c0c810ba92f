"""The command line shared by master-node and worker-node."""

import argparse

from stechec.common import config, logs


def daemon_parser(program, description):
    parser = argparse.ArgumentParser(prog=program, description=description)
    parser.add_argument("-c", "--config", metavar="FILE",
                        help=f"configuration file (default: {config.default_path(program)})")
    parser.add_argument("-l", "--local-logging", action="store_true",
                        help="also log to stderr (syslog is always used when present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser


def start_daemon(program, args, schema, *, debug_key):
    """Set up logging and load the configuration; exit with one line on a bad file."""
    logs.setup_logging(program, local=args.local_logging, verbose=args.verbose)
    try:
        return config.load(program, args.config, schema, debug_key=debug_key)
    except config.ConfigError as e:
        logs.fatal(program, f"configuration error: {e}", 2)
