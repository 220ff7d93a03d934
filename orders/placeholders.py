"""The placeholders of the shops' message texts ({name}, {eta}, …): which exist and
how a text is filled. Below the models, which check a shop's texts with it."""

import re

PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = (
    "name",
    "number",
    "shop",
    "summary",
    "stage",
    "stage_text",
    "eta",
    "reason",
    "action",
    "phone",
    "link",
)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER_RE.findall(text) if name not in PLACEHOLDERS})


def fill(text: str, values: dict[str, str]) -> str:
    """Placeholders filled; a line whose placeholder has no value is left out."""
    lines = []
    for line in text.splitlines():
        names = [n for n in PLACEHOLDER_RE.findall(line) if n in values]
        if any(not values[n] for n in names):
            continue
        lines.append(PLACEHOLDER_RE.sub(lambda m: values.get(m[1], m[0]), line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
