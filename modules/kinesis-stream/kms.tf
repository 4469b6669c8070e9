# The stream's key, unless the caller brings one. Cross-account producers and consumers may use
# it only through Kinesis in this Region (kms:ViaService).
module "kms_key" {
  source = "../kms-key"
  count  = local.create_kms_key ? 1 : 0

  description             = "Server-side encryption of Kinesis stream ${var.name}"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  statements              = local.kms_cross_account_statements
  tags                    = var.tags
}

locals {
  kms_cross_account_statements = concat(
    length(local.writer_principal_arns) == 0 ? [] : [{
      sid            = "CrossAccountProducersViaKinesis"
      principal_type = "AWS"
      principals     = local.writer_principal_arns
      actions        = ["kms:GenerateDataKey"]
      conditions     = [{ test = "StringEquals", variable = "kms:ViaService", values = [local.kinesis_via_service] }]
    }],
    length(local.reader_principal_arns) == 0 ? [] : [{
      sid            = "CrossAccountConsumersViaKinesis"
      principal_type = "AWS"
      principals     = local.reader_principal_arns
      actions        = ["kms:Decrypt"]
      conditions     = [{ test = "StringEquals", variable = "kms:ViaService", values = [local.kinesis_via_service] }]
    }],
  )
}
