"""How ``make bench`` counts the lines a team writes for a consumer (section consumer_size)."""

from __future__ import annotations

from bench.consumer_size import hcl_argument, hcl_code_lines, python_code_lines


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


def test_an_hcl_argument_ends_at_its_closing_brace() -> None:
    """GIVEN a module call whose consumers map nests objects (and a brace in a comment)
    WHEN the consumers argument is cut out THEN it runs from its line to its closing brace."""
    source = """module "m" {
  name = "x"
  consumers = {
    orders = {
      package = { source_dir = "f" } # a { in a comment
    }
  }
  alarm_emails = []
}
"""

    assert hcl_argument(source, "consumers").splitlines() == source.splitlines()[2:7]
