# Optional failure bucket: the native on-failure destination of a consumer's
# event source mapping (the object holds the batch's records, data included),
# and the hydrate function's claim-check store for records too large for an
# SQS message.
resource "aws_s3_bucket" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  #checkov:skip=CKV2_AWS_62:Objects are failure records read on demand by the replay CLI (through the DLQ envelope's pointer or by listing); no process consumes object-created events, and the DLQ depth alarm already signals new failures.
  #checkov:skip=CKV_AWS_144:Failure records are transient (they expire after s3_expiration_days) and their coordinates are also in the DLQ; replicating them would need a second bucket, Region and role per pipeline. Callers who need it add replication to bucket_name.
  bucket_prefix = var.s3_bucket_name == null ? local.bucket_prefix : null
  bucket        = var.s3_bucket_name

  # Failure records are evidence: refuse to destroy a bucket that holds some.
  force_destroy = false

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  # ACLs disabled: the bucket owner owns every object, whoever wrote it.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  # An overwritten or deleted failure record stays recoverable until the
  # lifecycle rule expires its noncurrent version.
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    # One data key per bucket instead of per object: fewer KMS calls (and
    # throttling risk) when a failing shard writes many records at once.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "expire-failure-records"
    status = "Enabled"

    filter {}

    expiration {
      days = var.s3_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.s3_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "remove-expired-delete-markers"
    status = "Enabled"

    filter {}

    expiration {
      expired_object_delete_marker = true
    }
  }

  # Lifecycle rules apply to versions, so versioning must be on first.
  depends_on = [aws_s3_bucket_versioning.this]
}

# Who read or wrote which failure record (it holds the pipeline's data): S3 server access logs,
# into the organisation's log bucket (access_logging.target_bucket) or one the module creates
# (s3_access_logs.tf), under the failure bucket's name.
resource "aws_s3_bucket_logging" "this" {
  count = local.access_logging_enabled ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = local.create_access_log_bucket ? aws_s3_bucket.access_logs[0].id : var.access_logging.target_bucket
  target_prefix = "${aws_s3_bucket.this[0].id}/"

  # S3 checks that the log delivery may write to the target (its bucket policy) when logging is
  # turned on.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_s3_bucket_policy" "this" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  # A policy put before the public access block could be judged public.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "bucket" {
  count = var.enable_s3_failure_bucket ? 1 : 0

  # Failure records hold the pipeline's data: never over plain HTTP.
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[0].arn,
      "${aws_s3_bucket.this[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # aws/lambda/ is where Lambda's S3 on-failure destination writes, and what the replay CLI
  # replays: only the roles Lambda writes with for the consumers that use it as destination
  # (none by default) may put objects there, never another role of the account.
  statement {
    sid       = "DenyOnFailureObjectWritesByOthers"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this[0].arn}/aws/lambda/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    dynamic "condition" {
      for_each = length(var.s3_on_failure_writer_role_arns) > 0 ? [1] : []

      content {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = sort(distinct(var.s3_on_failure_writer_role_arns))
      }
    }
  }
}
