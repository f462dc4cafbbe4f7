import json

import pytest
from django.core.management import CommandError, call_command

from advisory.evaluation import figure_correct
from advisory.models import Answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_knowledge():
    call_command("create_demo_users")
    call_command("load_demo", "--only", "knowledge", "advisory")


def _cases(tmp_path, *rows):
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n")
    return path


@pytest.mark.slow
def test_the_demo_cases_hold_with_the_extractive_backend(demo_knowledge, tmp_path):
    out = tmp_path / "report.json"

    call_command("evaluate_answers", "--backend", "extractive", "--json", str(out))

    report = json.loads(out.read_text())
    assert report["cases"] >= 40
    assert report["forbid_rate"] == 1.0, [r for r in report["results"] if r["forbidden"]]
    assert report["expect_rate"] >= 0.95, [r for r in report["results"] if r["missing"]]
    assert Answer.objects.count() == 0  # an evaluation stores nothing


def test_a_case_reports_missing_and_forbidden_facts(demo_knowledge, tmp_path, capsys):
    path = _cases(
        tmp_path,
        {"question": "What is the ongoing charge of the Short Duration Bond Fund?",
         "expect": ["0.25%", "a fact it lacks"], "forbid": ["0.45%", "ongoing charge"]},
        {"question": "What does the client hold?", "scope": "client", "client": "ADV-1002",
         "expect": ["Employer shares"], "forbid": ["Leipzig"]},
    )  # fmt: skip
    out = tmp_path / "report.json"

    call_command("evaluate_answers", str(path), "--json", str(out))

    report = json.loads(out.read_text())
    first, second = report["results"]
    assert (first["missing"], first["forbidden"], first["passed"]) == (
        ["a fact it lacks"],
        ["ongoing charge"],
        False,
    )
    assert second["passed"]
    assert (report["pass_rate"], report["expect_rate"], report["forbid_rate"]) == (0.5, 0.6667, 0.6667)
    assert "missing: a fact it lacks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "cases.jsonl, line 1: not JSON"),
        ('["a list"]', "line 1: expected an object"),
        ('{"question": " ", "expect": ["x"]}', "'question' must be a non-empty string"),
        ('{"question": "Q?", "expect": ["x"], "answer": "y"}', "unknown field(s) answer"),
        (
            '{"question": "Q?", "scope": "all", "expect": ["x"]}',
            "'scope' must be one of client, knowledge, both",
        ),
        ('{"question": "Q?", "scope": "client", "expect": ["x"]}', "a client question needs 'client'"),
        ('{"question": "Q?", "expect": "0.25%"}', "'expect' must be a list of non-empty strings"),
        ('{"question": "Q?", "expect": [""]}', "'expect' must be a list of non-empty strings"),
        ('{"question": "Q?", "collections": "faq", "expect": ["x"]}', "'collections' must be a list"),
        ('{"question": "Q?"}', "a case needs 'expect' or 'forbid' facts"),
        (
            '{"question": "Q?", "scope": "client", "client": "ADV-9999", "expect": ["x"]}',
            "no client 'ADV-9999'",
        ),
        ('{"question": "Q?", "collections": ["secret"], "expect": ["x"]}', "line 1: no such collection"),
    ],
)
def test_bad_cases_are_named_errors(tmp_path, line, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("evaluate_answers", str(_cases(tmp_path, line)))


def test_a_missing_or_empty_file_and_an_unknown_advisor_are_named(tmp_path):
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("evaluate_answers", str(tmp_path / "absent.jsonl"))
    with pytest.raises(CommandError, match="no cases"):
        call_command("evaluate_answers", str(_cases(tmp_path, "")))
    with pytest.raises(CommandError, match="--advisor: no user 'nobody'"):
        call_command("evaluate_answers", "--advisor", "nobody")


@pytest.mark.parametrize(
    ("answer", "gold", "verdict"),
    [
        (
            "Working capital was 831 [1].",
            "Yes. Corning had a positive working capital of $831 million by FY 2022.",
            True,
        ),
        ("The ratio is 0.5428.", "No. The quick ratio was approximately 0.54 for Verizon.", True),
        ("Capital expenditure: 1,577 [2]", "$1577.00", True),
        ("It spent 1.6 billion.", "$1577 million", True),
        ("Net revenue was (473).", "Corporate. Its net revenue was -$473 million.", True),
        ("It was 2.6 billion in 2023.", "No. Microsoft decreased its debt by $2.5bn in FY 2023.", False),
        ("Revenue rose in 2022.", "Revenue was $2,022 million.", False),
        ("Anything at all.", "Since JPM is a financial institution, gross margin is not relevant.", None),
    ],
)
def test_financebench_figures_match_within_rounding_in_any_scale(answer, gold, verdict):
    assert figure_correct(answer, gold) is verdict
