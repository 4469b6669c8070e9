# The function's code: a prebuilt zip (package.filename), or a source folder (package.source_dir)
# the module zips itself, with no step outside Terraform. For a source folder:
#
# - at plan time, a content hash over every file that goes into the zip -- the folder's files
#   and this repository's shared Lambda code (src/stream_pipeline: __init__.py, runtime/, kit/
#   and the packaging module itself), found relative to the module, since modules are consumed
#   from a git tag with the whole repository -- becomes the function's source_code_hash and
#   names the zip, so the plan never needs the zip to exist;
# - at apply, terraform_data.package (replaced whenever that hash changes) runs
#   `python3 -m stream_pipeline.packaging --source-dir DIR --output ZIP` with
#   PYTHONPATH=<repository>/src: standard library only, reproducible zips;
# - the function takes its filename from terraform_data.package's output, so it is created or
#   updated only after the zip is built.
#
# The file selection below is stream_pipeline.packaging's (keep the two in step): from the
# folder every file but hidden ones, __pycache__/ and *.pyc; from the shared package *.py,
# *.json and *.txt.

locals {
  build_package = var.package.source_dir != null

  # Where src/stream_pipeline lives: next to modules/ in the repository.
  shared_source_root = abspath("${path.module}/../../src")

  package_source_files = local.build_package ? sort([
    for f in fileset(var.package.source_dir, "**") : f
    if !can(regex("(^|/)(\\.|__pycache__/)", f)) && !endswith(f, ".pyc")
  ]) : []

  package_shared_files = local.build_package ? sort(concat(
    ["stream_pipeline/__init__.py", "stream_pipeline/packaging.py"],
    [
      for f in fileset(local.shared_source_root, "stream_pipeline/{runtime,kit}/**") : f
      if can(regex("\\.(py|json|txt)$", f)) && !strcontains(f, "__pycache__/")
    ],
  )) : []

  # One line per file, "<source|shared> <path> <sha256>": a rename, an addition or an edit
  # changes it.
  package_manifest = local.build_package ? join("\n", concat(
    [for f in local.package_source_files : "source ${f} ${filesha256("${var.package.source_dir}/${f}")}"],
    [for f in local.package_shared_files : "shared ${f} ${filesha256("${local.shared_source_root}/${f}")}"],
  )) : null

  # Under the root module's .terraform/ (Terraform's own working directory, never committed),
  # relative to it so the path in the state is the same on every machine; hash-named, so a new
  # zip never overwrites the one a running apply reads.
  package_filename = local.build_package ? format(
    "%s/.terraform/stream-consumer/%s-%s.zip",
    path.root, var.name, substr(sha256(local.package_manifest), 0, 16),
  ) : var.package.filename

  package_source_code_hash = local.build_package ? base64sha256(local.package_manifest) : var.package.source_code_hash
}

resource "terraform_data" "package" {
  count = local.build_package ? 1 : 0

  triggers_replace = [local.package_source_code_hash, local.package_filename]
  input            = local.package_filename

  # The command without a shell: interpreter plus the zip's path as its last argument.
  provisioner "local-exec" {
    interpreter = [
      var.package.python, "-m", "stream_pipeline.packaging",
      "--source-dir", abspath(var.package.source_dir), "--output",
    ]
    command = local.package_filename
    environment = {
      PYTHONPATH              = local.shared_source_root
      PYTHONDONTWRITEBYTECODE = "1"
    }
  }
}
