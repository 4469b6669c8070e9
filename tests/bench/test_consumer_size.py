"""How ``make bench`` counts the lines a team writes for a consumer (section consumer_size)."""

from __future__ import annotations

from bench.consumer_size import hcl_code_lines, python_code_lines


def test_python_lines_leave_out_blank_lines_comments_and_docstrings() -> None:
    """GIVEN a module with a docstring, a comment, blank lines, a multi-line call and a function
    docstring WHEN counted THEN only the lines holding code count, each line of the call too."""
    source = '''"""Module docstring,
over two lines."""

import json  # a trailing comment keeps the line

# a comment line


def handler(record):
    """Docstring."""
    return json.dumps(
        record,
    )
'''

    assert python_code_lines(source) == 5


def test_hcl_lines_leave_out_blank_lines_and_comments() -> None:
    """GIVEN HCL with # and // comments and blank lines WHEN counted THEN the other lines count."""
    source = """# what this is
resource "x" "y" {
  // a comment
  name = "n" # trailing

}
"""

    assert hcl_code_lines(source) == 3
