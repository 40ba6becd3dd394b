"""Tables of results shown as tables (qnncourse.tables.Table)."""

import pytest

from qnncourse.tables import Table


def test_a_table_in_every_form():
    t = Table(["strategy", "success"], [["local cost", "45%"], ["a<b & c_d", "5%"]])
    assert t._repr_html_() == (
        '<table class="qnn-table"><thead><tr><th>strategy</th><th>success</th></tr></thead>'
        "<tbody><tr><td>local cost</td><td>45%</td></tr>"
        "<tr><td>a&lt;b &amp; c_d</td><td>5%</td></tr></tbody></table>")
    assert repr(t).splitlines() == ["strategy    success", "local cost  45%",
                                    "a<b & c_d   5%"]
    latex = t._repr_latex_()
    assert latex.startswith("\\begin{tabular}{ll}") and r"a<b \& c\_d & 5\%" in latex


def test_formats_and_title():
    t = Table(["M", "gap", "note"], [(12, 0.0506, "a<b")], formats={"gap": ".3f"}, title="T")
    assert "<caption>T</caption>" in t._repr_html_() and "<td>0.051</td>" in t._repr_html_()
    assert repr(t).splitlines() == ["T", "M   gap    note", "12  0.051  a<b"]
    assert t._repr_latex_().startswith("\\textbf{T}\\par\n\\begin{tabular}{lll}")
    # myst-nb typesets text/latex in a math block: ^ and ~ in a cell must be text, not math
    assert r"L\textasciicircum{} \textasciitilde{}1" in Table(["L^ ~1"], [])._repr_latex_()


def test_cells_are_shown_as_strings():
    assert Table(["n"], [[3], [1.5]]).rows == [["3"], ["1.5"]]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="row 1 has 1 cells, the table has 2 columns"):
        Table(["a", "b"], [["1", "2"], ["3"]])
    with pytest.raises(ValueError, match="formats name columns that do not exist"):
        Table(["a"], [(1,)], formats={"b": ".2f"})
