"""The README's Deployment section as the commands an operator types, in order.

Every indented code line of the section is one command (or, for a line the
README shows a program printing, one line of output); a trailing `# comment`
is dropped, and so is a line holding only a comment; a line ending in a
backslash goes on on the next. tests/deployment runs
exactly these lines, so a step added to or removed from the README changes
the test.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
SECTION = "## Deployment"


def deployment_section(text):
    start = text.index(f"\n{SECTION}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def deployment_commands(path=README):
    with open(path) as f:
        section = deployment_section(f.read())
    # Only indented blocks are read: a fenced one would be skipped silently.
    assert "```" not in section, f"{path}: a fenced code block in {SECTION}; indent it instead"
    commands = []
    continued = ""
    for line in section.splitlines():
        if not line.startswith("    "):
            continue
        command = continued + re.sub(r"(^|\s+)#.*$", "", line.strip())
        # A line ending in a backslash goes on on the next one, as in the shell.
        if command.endswith("\\"):
            continued = command[:-1]
        elif command:
            commands.append(command)
            continued = ""
    return commands
