from datetime import UTC, datetime

from assistant.core.charts import Series, bars_svg, lines_svg


def test_a_line_chart_has_titled_axes_tick_labels_and_a_title_per_point():
    day = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    svg = lines_svg(
        [Series("triage", [(day, 0.81), (day + 86400, 0.84)])],
        label="accuracy over time",
        x_title="day",
        y_title="accuracy",
        x_format=lambda t: datetime.fromtimestamp(t, UTC).strftime("%d %b"),
        y_range=(0.0, 1.0),
    )
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert 'aria-label="accuracy over time"' in svg
    assert ">day</text>" in svg
    assert ">accuracy</text>" in svg
    assert ">0.50</text>" in svg
    assert ">1.00</text>" in svg
    assert "<title>triage: 0.84 at 02 Nov</title>" in svg


def test_nothing_to_draw_is_an_empty_string():
    assert lines_svg([Series("empty", [])], label="x", x_title="x", y_title="y") == ""
    assert bars_svg([], title="none") == ""


def test_bars_name_each_bar_and_escape_names():
    svg = bars_svg([("card <arrival>", 12, "12"), ("lost card", 3, "3")], title="handoffs", log=False)
    assert "card &lt;arrival&gt;" in svg
    assert "<title>lost card: 3</title>" in svg
