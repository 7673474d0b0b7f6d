"""One sanitiser for every external string before it can reach a terminal.

Rich and Textual strip only a handful of control codes; ESC, C1 and OSC sequences
pass straight through (reliability.md finding 3). Everything from a network or a
config file goes through :func:`clean_text` at ingest, and widgets render it as
plain content, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences (CSI, OSC, DCS, single-char escapes) are removed whole,
# so no printable residue like "]0;PWNED" is left behind.
_ESCAPE_SEQ = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x1b"
)
_BIDI = dict.fromkeys(
    [0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)
_ZERO_WIDTH = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF], None)


def clean_text(value: object, limit: int = 200) -> str:
    """Return ``value`` as a single safe line: no control, escape, bidi or zero-width
    characters, NFC-normalised and at most ``limit`` characters (with an ellipsis)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 8:
        text = text[: limit * 8]  # bound the work on hostile input
    text = _ESCAPE_SEQ.sub("", text)
    text = text.translate(_BIDI).translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\t\n\r":
            out.append(" ")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            continue
        else:
            out.append(ch)
    text = "".join(out).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
