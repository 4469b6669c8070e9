"""The README table generator and the variable/output conventions it enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import terraform_docs
from tools.terraform_docs import BEGIN, END

WELL_FORMED_VARIABLES = """
variable "consumers" {
  description = "Enhanced fan-out consumers | by name."
  type        = map(object({ name = optional(string) }))
  default     = {}
  nullable    = false
}

variable "name" {
  description = "Stream name."
  type        = string
}

variable "retention_period" {
  description = <<-EOT
    Hours to keep
    records.
  EOT
  type        = number
  default     = 24
}
"""
WELL_FORMED_OUTPUTS = """
output "arn" {
  description = "Stream ARN."
  value       = try(aws_kinesis_stream.this.arn, null)
}
"""


def write_module(root: Path, variables: str, outputs: str, readme: str | None = None) -> Path:
    module = root / "modules" / "sample"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text(variables)
    (module / "outputs.tf").write_text(outputs)
    (module / "README.md").write_text(
        readme if readme is not None else f"# sample\n\n{BEGIN}\n{END}\n"
    )
    return module


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(terraform_docs, "REPO_ROOT", tmp_path)
    return tmp_path


def test_tables_are_generated_between_the_markers(repo: Path) -> None:
    # GIVEN a module that follows the conventions and a README with empty markers
    module = write_module(repo, WELL_FORMED_VARIABLES, WELL_FORMED_OUTPUTS)
    # WHEN the tables are generated
    assert terraform_docs.main([str(module)]) == 0
    readme = (module / "README.md").read_text()
    # THEN every input and output is a row: types, defaults, required flags, escaped pipes
    assert "| `name` | Stream name. | `string` | n/a | yes |" in readme
    assert "| `retention_period` | Hours to keep records. | `number` | `24` | no |" in readme
    assert "Enhanced fan-out consumers \\| by name." in readme
    assert "`map(object({name = optional(string)}))`" in readme
    assert "| `arn` | Stream ARN. | no |" in readme
    assert readme.startswith("# sample\n\n" + BEGIN)
    assert readme.rstrip().endswith(END)
    # AND a check right after passes
    assert terraform_docs.main(["--check", str(module)]) == 0


def test_check_fails_when_tables_are_stale(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a README whose tables were never generated
    module = write_module(repo, WELL_FORMED_VARIABLES, WELL_FORMED_OUTPUTS)
    # WHEN checked
    assert terraform_docs.main(["--check", str(module)]) == 1
    # THEN the error says how to fix it and the file is untouched
    assert "run `make docs`" in capsys.readouterr().err
    assert (module / "README.md").read_text() == f"# sample\n\n{BEGIN}\n{END}\n"


@pytest.mark.parametrize(
    ("variables", "outputs", "message"),
    [
        ('variable "a" {\n  type = string\n}\n', "", "variable 'a' has no description"),
        ('variable "a" {\n  description = "x"\n}\n', "", "variable 'a' has no type"),
        (
            'variable "a" {\n  description = "x"\n  type = list(string)\n  default = []\n}\n',
            "",
            "collection variable 'a' needs nullable = false",
        ),
        (
            'variable "b" {\n  description = "x"\n  type = string\n}\n'
            'variable "a" {\n  description = "x"\n  type = string\n}\n',
            "",
            "variables are not in alphabetical order",
        ),
        ("", 'output "a" {\n  value = 1\n}\n', "output 'a' has no description"),
        (
            "",
            'output "b" {\n  description = "x"\n  value = 1\n}\n'
            'output "a" {\n  description = "x"\n  value = 1\n}\n',
            "outputs are not in alphabetical order",
        ),
    ],
)
def test_convention_violations_are_reported(
    repo: Path, capsys: pytest.CaptureFixture[str], variables: str, outputs: str, message: str
) -> None:
    # GIVEN a module breaking one convention
    module = write_module(repo, variables, outputs)
    # WHEN its README is generated
    # THEN the run fails naming the offending block
    assert terraform_docs.main([str(module)]) == 1
    assert message in capsys.readouterr().err


def test_readme_without_markers_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a README without the markers
    module = write_module(repo, WELL_FORMED_VARIABLES, WELL_FORMED_OUTPUTS, readme="# sample\n")
    # WHEN / THEN generation refuses to guess where the tables go
    assert terraform_docs.main([str(module)]) == 1
    assert "missing <!-- BEGIN_TF_DOCS -->" in capsys.readouterr().err
