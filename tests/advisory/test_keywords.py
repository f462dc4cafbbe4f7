import json

import pytest
from django.core.management import CommandError, call_command

from advisory.keywords import keyphrases, keyphrases_evaluate, letter_keywords

LETTER = (
    "Since my husband retired last autumn, I plan to retire at 62 with the mortgage paid off. "
    "I cannot afford to lose capital; the swings in the equity fund made me nervous about markets. "
    "Our granddaughter was born in January and we would like to fund her education in about fifteen years. "
    "We may sell our rental flat within five years."
)


def test_letters_give_keywords_in_every_category_with_their_spans():
    found = letter_keywords(LETTER)
    by_category = {}
    for keyword in found:
        assert LETTER[keyword.start : keyword.end] == keyword.phrase
        by_category.setdefault(keyword.category, []).append(keyword.phrase.lower())
    assert set(by_category) == {"asset", "goal", "risk", "horizon", "life_event"}
    assert any("retire at 62" in phrase for phrase in by_category["goal"])
    assert any("cannot afford to lose" in phrase for phrase in by_category["risk"])
    assert "rental flat" in by_category["asset"]
    assert "equity fund" in by_category["asset"]
    assert "within five years" in by_category["horizon"]
    assert {"retired", "born"} <= set(by_category["life_event"])


def test_keyphrases_are_ranked_without_repeating_themselves():
    text = "Unemployment falls. The unemployment rate fell as employers added jobs; jobs growth was broad."
    phrases = [span.phrase.lower() for span in keyphrases(text, top=5)]
    assert len(phrases) == len(set(phrases)) <= 5
    assert any("unemployment" in phrase for phrase in phrases)
    assert all(not any(a != b and a in b for b in phrases) for a in phrases)


def test_evaluation_matches_stemmed_phrases():
    text = "Jobs report: employers added jobs and unemployment fell to 8.8 percent."
    perfect = keyphrases_evaluate([(text, [span.phrase for span in keyphrases(text, top=3)])], k=3)
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    assert keyphrases_evaluate([(text, ["volcano"])], k=3).f1 == 0.0


def test_evaluate_keywords_reports_overall_and_business_scores(tmp_path, capsys):
    data = tmp_path / "kp.jsonl"
    rows = [
        {
            "category": "business",
            "text": "Shares rose as profits beat forecasts.",
            "keyphrases": ["shares", "profits"],
        },
        {"category": "sports", "text": "The team won the final.", "keyphrases": ["team", "final"]},
    ]
    data.write_text("\n".join(json.dumps(row) for row in rows))
    out = tmp_path / "scores.json"
    call_command("evaluate_keywords", "--data", str(data), "--k", "3", "--json", str(out))
    report = json.loads(out.read_text())
    assert report["all"]["documents"] == 2
    assert report["business"]["documents"] == 1
    assert "F1@3" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("not json", "line 1"), ('{"text": "no phrases"}', "line 1")],
)
def test_evaluate_keywords_names_the_problem(tmp_path, content, message):
    data = tmp_path / "kp.jsonl"
    if content is not None:
        data.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("evaluate_keywords", "--data", str(data))
