"""Fenced code blocks of a README, so tests run exactly what it tells users."""

import re
import textwrap
from dataclasses import dataclass

FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<language>\w*)\n(?P<body>.*?)^(?P=indent)```[ ]*$",
    re.DOTALL | re.MULTILINE,
)


@dataclass(frozen=True)
class Block:
    language: str
    body: str  # dedented, as a user would copy it
    prose: str  # the text between the previous block and this one


def section(markdown: str, heading: str) -> str:
    """The text under `heading` (a whole line), up to the next heading of its
    level or above; lines in code blocks may start with '#' too."""
    level = len(heading.split(" ", 1)[0])
    start = markdown.index(f"\n{heading}\n") + len(heading) + 1
    rest = FENCE.sub("", markdown[start:])
    following = re.search(rf"^#{{1,{level}}} .*$", rest, re.MULTILINE)
    if following is None:
        return markdown[start:]
    return markdown[start : markdown.index(f"\n{following[0]}\n", start)]


def blocks(markdown: str, language: str | None = None) -> list[Block]:
    found, previous_end = [], 0
    for match in FENCE.finditer(markdown):
        block = Block(
            language=match["language"],
            body=textwrap.dedent(match["body"]),
            prose=markdown[previous_end : match.start()],
        )
        previous_end = match.end()
        if language is None or block.language == language:
            found.append(block)
    return found
