"""Occlusion attribution: the words whose removal lowers the explained typology's probability."""

from __future__ import annotations

import pytest

from aml import explain
from assistant.training.inference import Prediction


def scorer(weights: dict[str, float]):
    """A model whose P(fraud) is the sum of the weights of the words a text contains."""

    def scored(texts, *, record=True):
        assert record is False
        return [
            Prediction(
                "fraud",
                0.0,
                False,
                1,
                (("fraud", sum(w for word, w in weights.items() if word in text.split())),),
            )
            for text in texts
        ]

    return scored


def test_adjacent_words_that_matter_merge_into_one_phrase_with_offsets(monkeypatch):
    monkeypatch.setattr(explain, "typology_scored", scorer({"safe": 0.3, "account": 0.3, "urgent": 0.1}))
    text = "move savings to safe account today, urgent please"

    (phrases,) = explain.occlusions([(text, "fraud")])

    assert [p["text"] for p in phrases] == ["safe account", "urgent"]
    assert phrases[0]["weight"] == pytest.approx(0.6)
    for phrase in phrases:
        assert text[phrase["start"] : phrase["end"]] == phrase["text"]


def test_a_one_word_narrative_is_its_own_phrase_and_an_empty_one_has_none(monkeypatch):
    monkeypatch.setattr(explain, "typology_scored", scorer({"consulting": 0.9}))

    single, empty = explain.occlusions([("consulting", "fraud"), ("   ", "fraud")])

    assert [p["text"] for p in single] == ["consulting"]
    assert empty == []


def test_a_long_text_is_cut_into_at_most_max_units_runs_of_words():
    text = " ".join(f"w{n}" for n in range(100))

    units = explain.units_of(text)

    assert len(units) <= explain.MAX_UNITS
    assert units[0].start == 0
    assert units[-1].end == len(text)
