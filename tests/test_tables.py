"""qnncourse.tables: HTML for notebooks, aligned text otherwise, named errors."""

import pytest

from qnncourse.tables import table


def test_html_and_text():
    t = table([(12, 0.0506, "a<b")], ["M", "gap", "note"], formats={"gap": ".3f"}, title="T")
    assert "<th>gap</th>" in t._repr_html_() and "<td>0.051</td>" in t._repr_html_()
    assert "a&lt;b" in t._repr_html_() and "<caption>T</caption>" in t._repr_html_()
    assert repr(t).splitlines() == ["T", " M    gap  note", "12  0.051   a<b"]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="row 0 has 1 entries, the table has 2 columns"):
        table([(1,)], ["a", "b"])
    with pytest.raises(ValueError, match="formats name columns that do not exist"):
        table([(1,)], ["a"], formats={"b": ".2f"})
