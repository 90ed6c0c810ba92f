"""Logs are bytes: what XML can carry of text, and how a page shows a log (pure functions)."""

import xml.etree.ElementTree as ET

from stechec.common.logtext import CONTROL_CLASS, segments, visible, xml_safe

EVERY_BYTE = bytes(range(256))


def escaped(*codes):
    return "".join(f"\\x{code:02x}" for code in codes)


def shown(data):
    """The text a page shows for `data`, control characters in [brackets]."""
    return "".join(f"[{text}]" if classes[-1:] == (CONTROL_CLASS,) else text
                   for classes, text in segments(data))


def test_xml_safe_text_is_well_formed_xml_and_changes_only_what_xml_cannot_carry():
    text = "".join(map(chr, range(0x10000))) + "\U0001f600"
    safe = xml_safe(text)
    ET.fromstring(f"<s>{safe.replace('&', '&amp;').replace('<', '&lt;')}</s>".encode())
    forbidden_c0 = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]
    assert safe.startswith(escaped(*range(0x09)) + "\t\n" + escaped(0x0B, 0x0C) + "\r"
                           + escaped(*range(0x0E, 0x20)) + " !")
    rest = safe[len(escaped(*forbidden_c0)) + 3:]
    assert rest == text[0x20:0xD800] + "\ufffd" * 0x800 + text[0xE000:0xFFFE] + \
        "\ufffd\ufffd\U0001f600"
    plain = "no control here: é ☃ \x7f\x85"
    assert xml_safe(plain) is plain


def test_every_byte_value_is_shown_visibly():
    pieces = segments(EVERY_BYTE)
    # Tab and line feed are themselves; the other C0 controls and DEL are escaped; 0x80 to
    # 0xFF alone are not UTF-8: one U+FFFD each.
    assert "".join(text for _, text in pieces) == (
        escaped(*range(0x09)) + "\t\n" + escaped(*range(0x0B, 0x20))
        + "".join(map(chr, range(0x20, 0x7F))) + escaped(0x7F) + "\ufffd" * 128)
    controls = [text for classes, text in pieces if classes == (CONTROL_CLASS,)]
    assert controls == [escaped(c) for c in (*range(0x09), *range(0x0B, 0x20), 0x7F)]


def test_engine_colours_become_classes_and_their_sequences_vanish():
    line = b"[\x1b[1;31mserver\x1b[0m] Invalid player identifier 2 > 1 (server.cc:200)\n"
    assert segments(line) == [
        ((), "["), (("ansi-bold", "ansi-fg-1"), "server"),
        ((), "] Invalid player identifier 2 > 1 (server.cc:200)\n")]


def test_sgr_codes_set_and_reset_each_attribute():
    data = (b"\x1b[1;3;4;92;44mA\x1b[22;23;24mB\x1b[39mC\x1b[49;2mD\x1b[mE"
            b"\x1b[38;5;9;48;5;200mF\x1b[38;2;1;2;3;7mG\x1b[0;33;100mH\x1b[5mI")
    assert segments(data) == [
        (("ansi-bold", "ansi-italic", "ansi-underline", "ansi-fg-10", "ansi-bg-4"), "A"),
        (("ansi-fg-10", "ansi-bg-4"), "B"), (("ansi-bg-4",), "C"), (("ansi-dim",), "D"),
        ((), "E"),
        # 256 colours: the first 16 are the basic ones, the others the default colour; so
        # are RGB colours, whose values are not taken for codes (7, inverse, is ignored).
        (("ansi-fg-9",), "F"), ((), "G"), (("ansi-fg-3", "ansi-bg-8"), "H"),
        (("ansi-fg-3", "ansi-bg-8"), "I")]


def test_other_escape_sequences_line_ends_and_invalid_utf8_are_visible():
    assert shown(b"\x1b[2Jclear\x1b]0;title\x07") == r"[\x1b][2Jclear[\x1b]]0;title[\x07]"
    assert shown(b"windows\r\nline\rover\n") == "windows\nline[\\x0d]over\n"
    assert shown(b"caf\xc3\xa9 \xff\xfe \xc3\x28 \xe2\x82") == "café \ufffd\ufffd \ufffd( \ufffd"
    assert shown("next line\u0085, bidi \u202e".encode()) == "next line[\\x85], bidi \u202e"
    # A control character keeps the colour around it.
    assert segments(b"\x1b[31ma\x00b") == [
        (("ansi-fg-1",), "a"), (("ansi-fg-1", CONTROL_CLASS), "\\x00"), (("ansi-fg-1",), "b")]


def test_visible_escapes_each_kind_of_control_as_python_does():
    for char in "\x00\x1b\x7f\x9b":
        assert visible(char) == repr(char)[1:-1]
