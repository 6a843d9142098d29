"""The rounding noise nbval ignores (tests/nbval-sanitize.cfg), for tests that compare a
chapter's printed text with its reference notebook as nbval does."""

import re
from pathlib import Path

RULES = re.findall(
    r"^regex: (.*)$\n^replace: (.*)$",
    (Path(__file__).parent / "nbval-sanitize.cfg").read_text(),
    re.MULTILINE,
)


def sanitize(text: str) -> str:
    """``text`` with nbval's sanitize rules applied."""
    for pattern, replacement in RULES:
        text = re.sub(pattern, replacement, text)
    return text
