"""Logs are bytes: what compilers, game servers and champions print, made fit for XML and
for people.

A log is whatever its program wrote: the stechec2 engine colours its tags
with ANSI escape sequences, and a champion may print NUL, ESC or invalid
UTF-8. The files in the shared directory and the log tails in results keep
those bytes as they are (results carry them as XML-RPC base64, docs/rpc.md).
Two things here turn bytes or text into something else, never in place:

- `xml_safe`: text with the characters XML 1.0 cannot carry (most C0
  controls, lone surrogates, U+FFFE, U+FFFF) replaced by visible ones, so
  that a reason or a name holding one still makes a well-formed request;
- `segments`: a log as the site shows it: colours kept as styles, every
  other control character made visible, invalid UTF-8 as U+FFFD.

A control character is made visible as Python writes it in a string, `\\x1b`:
plain ASCII, which every font shows (the Unicode control pictures, ␛, are
missing from many).
"""

import re

# Characters XML 1.0 forbids, even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# An ANSI "select graphic rendition" (colour and weight) sequence: ESC [ parameters m.
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# What a page shows as something visible: every control character but tab and line feed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Marks a control character shown as something visible, in segments' classes.
CONTROL_CLASS = "ctl"


def visible(char):
    """A control character (C0, DEL or C1) as Python escapes it: `\\x00`, `\\x1b`..."""
    return f"\\x{ord(char):02x}"


def xml_safe(text):
    """`text` with what XML 1.0 cannot carry replaced: C0 controls as `visible` shows
    them, lone surrogates, U+FFFE and U+FFFF by U+FFFD."""
    if _NOT_XML.search(text) is None:
        # The usual case, and a search costs a third of a substitution that finds nothing.
        return text
    return _NOT_XML.sub(lambda m: visible(m[0]) if m[0] < " " else "\ufffd", text)


class _Style:
    """The graphic rendition an SGR sequence leaves: weight, slant, underline, colours."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.bold = self.dim = self.italic = self.underline = False
        self.fg = self.bg = None

    def apply(self, parameters):
        codes = [int(p) if p else 0 for p in parameters.split(";")]
        i = 0
        while i < len(codes):
            code = codes[i]
            i += 1
            if code == 0:
                self.reset()
            elif code in (1, 2, 22):
                self.bold, self.dim = code == 1, code == 2
            elif code in (3, 23):
                self.italic = code == 3
            elif code in (4, 24):
                self.underline = code == 4
            elif 30 <= code <= 37 or 90 <= code <= 97:
                self.fg = code % 10 + (8 if code >= 90 else 0)
            elif 40 <= code <= 47 or 100 <= code <= 107:
                self.bg = code % 10 + (8 if code >= 100 else 0)
            elif code in (39, 49):
                setattr(self, "fg" if code == 39 else "bg", None)
            elif code in (38, 48):
                # 5;N (256 colours: the first 16 are the ones above) or 2;R;G;B
                # (shown in the default colour).
                mode = codes[i] if i < len(codes) else None
                colour = codes[i + 1] if mode == 5 and i + 1 < len(codes) else None
                setattr(self, "fg" if code == 38 else "bg",
                        colour if colour is not None and colour < 16 else None)
                i += {5: 2, 2: 4}.get(mode, 0)
            # Anything else (blink, inverse, fonts...) is not shown.

    def classes(self):
        names = [name for name in ("bold", "dim", "italic", "underline") if getattr(self, name)]
        names += [f"{name}-{colour}" for name, colour in (("fg", self.fg), ("bg", self.bg))
                  if colour is not None]
        return tuple(f"ansi-{name}" for name in names)


def segments(data):
    """Log `data` (bytes) as a page shows it: a list of (classes, text).

    Invalid UTF-8 is U+FFFD; SGR sequences set the classes of the text that
    follows (`ansi-bold`, `ansi-dim`, `ansi-italic`, `ansi-underline`,
    `ansi-fg-N` and `ansi-bg-N` for the 16 colours N = 0-15) and are not
    shown; CR LF is a line end; every other control character (NUL, ESC of
    any other sequence, a lone CR, DEL, C1) is shown as `visible` gives it,
    in a segment of its own whose classes end with CONTROL_CLASS.
    """
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    style = _Style()
    pieces = []
    position = 0
    for sgr in _SGR.finditer(text):
        _add_text(pieces, style.classes(), text[position:sgr.start()])
        style.apply(sgr[1])
        position = sgr.end()
    _add_text(pieces, style.classes(), text[position:])
    return pieces


def _add_text(pieces, classes, text):
    position = 0
    for control in _CONTROL.finditer(text):
        if control.start() > position:
            pieces.append((classes, text[position:control.start()]))
        pieces.append(((*classes, CONTROL_CLASS), visible(control[0])))
        position = control.end()
    if position < len(text):
        pieces.append((classes, text[position:]))
