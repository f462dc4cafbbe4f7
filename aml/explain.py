"""Which phrases drove the typology model's reading: occlusion attribution.

The text is cut into units (words; for a long text, runs of words, at most MAX_UNITS of them).
Each unit is removed in turn and the text scored again: a unit's weight is how much the
probability of the explained typology falls without it. Adjacent units that matter are merged
into phrases; the strongest MAX_PHRASES are kept, each with its character offsets in the text.
One extra model pass per unit: a single screening pays for it at once; a batch's alerts are
attributed after the batch is screened (`aml.services.screening.alerts_attribute`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aml.risk import typology_scored

MAX_UNITS = 40
MAX_PHRASES = 4
MIN_DROP = 0.02
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Unit:
    start: int
    end: int


def units_of(text: str) -> list[Unit]:
    words = [Unit(m.start(), m.end()) for m in WORD.finditer(text)]
    size = math.ceil(len(words) / MAX_UNITS) if words else 1
    return [
        Unit(words[i].start, words[min(i + size, len(words)) - 1].end) for i in range(0, len(words), size)
    ]


def _without(text: str, unit: Unit) -> str:
    return " ".join((text[: unit.start] + text[unit.end :]).split()) or "."


def occlusions(items: Sequence[tuple[str, str]]) -> list[list[dict[str, Any]]]:
    """For each (text, label): the phrases whose removal lowers P(label) most, strongest first.

    The variants of all the texts are scored together, in calls of at most MAX_BATCH texts.
    """
    cut = [units_of(text) for text, _ in items]
    variants = [
        variant
        for (text, _), units in zip(items, cut, strict=True)
        if units
        for variant in (text, *(_without(text, u) for u in units))
    ]
    scored = iter(typology_scored(variants, record=False) if variants else [])
    found: list[list[dict[str, Any]]] = []
    for (text, label), units in zip(items, cut, strict=True):
        if not units:
            found.append([])
            continue
        probability = [dict(next(scored).alternatives).get(label, 0.0) for _ in range(len(units) + 1)]
        found.append(_phrases(text, units, [probability[0] - p for p in probability[1:]]))
    return found


def occlusion(text: str, label: str) -> list[dict[str, Any]]:
    return occlusions([(text, label)])[0]


def _phrases(text: str, units: Sequence[Unit], drops: Sequence[float]) -> list[dict[str, Any]]:
    """Adjacent units that matter merged into phrases; the strongest MAX_PHRASES."""
    phrases: list[dict[str, Any]] = []
    previous = -2
    for index, (unit, drop) in enumerate(zip(units, drops, strict=True)):
        if drop < MIN_DROP:
            continue
        if index == previous + 1:
            phrases[-1]["end"] = unit.end
            phrases[-1]["weight"] += drop
        else:
            phrases.append({"start": unit.start, "end": unit.end, "weight": drop})
        previous = index
    strongest = sorted(phrases, key=lambda p: -p["weight"])[:MAX_PHRASES]
    return [
        {
            "text": text[p["start"] : p["end"]],
            "start": p["start"],
            "end": p["end"],
            "weight": round(p["weight"], 4),
        }
        for p in strongest
    ]
