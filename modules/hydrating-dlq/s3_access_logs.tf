# The failure bucket's access log bucket, when access_logging is enabled without a target bucket
# of the organisation's: private, versioned, TLS-only, SSE-S3 (the only default encryption S3
# server access logging delivers to), its logs expiring after access_logging.expiration_days.
# Only the S3 log delivery of the failure bucket, in this account, may write to it.

locals {
  access_logging_enabled   = var.enable_s3_failure_bucket && var.access_logging.enabled
  create_access_log_bucket = local.access_logging_enabled && var.access_logging.target_bucket == null
  # The module's account, from its queue's ARN (no aws_caller_identity).
  account_id = element(split(":", aws_sqs_queue.this.arn), 4)
}

resource "aws_s3_bucket" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  #checkov:skip=CKV_AWS_144:Access logs of a transient failure bucket; replicating them would need a second bucket, Region and role per pipeline. Callers who need it pass access_logging.target_bucket, the organisation's replicated log bucket.
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to buckets whose default encryption is SSE-S3: SSE-KMS is not supported for the target bucket.
  #checkov:skip=CKV2_AWS_62:No process consumes the log objects as they arrive; they are read on demand, for an audit.
  bucket_prefix = "${substr(var.name, 0, 24)}-access-logs-"

  # Access logs are evidence: refuse to destroy a bucket that holds some.
  force_destroy = false

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  # ACLs disabled: log delivery is then granted by the bucket policy below, as AWS recommends.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_logging.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.access_logging.expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  policy = data.aws_iam_policy_document.access_logs[0].json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

data "aws_iam_policy_document" "access_logs" {
  count = local.create_access_log_bucket ? 1 : 0

  # The S3 log delivery, for the failure bucket of this account only (confused deputy), under
  # that bucket's prefix.
  statement {
    sid       = "S3ServerAccessLogsOfTheFailureBucket"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/${aws_s3_bucket.this[0].id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.this[0].arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.access_logs[0].arn,
      "${aws_s3_bucket.access_logs[0].arn}/*",
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
}
