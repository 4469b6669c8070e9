# Renders the real key policy (aws_iam_policy_document is built locally by the provider) with
# the key itself overridden, so nothing reaches AWS and the dummy credentials are never used.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
}

override_resource {
  target = aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

override_resource {
  target = aws_kms_key_policy.this
}

override_resource {
  target = aws_kms_alias.this
}

variables {
  description = "test key"
}

run "account_delegation_only_by_default" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "Rotation must always be on."
  }

  assert {
    condition     = length(aws_kms_alias.this) == 0
    error_message = "No alias unless one is asked for."
  }

  assert {
    condition     = [for s in jsondecode(output.policy_json).Statement : s.Sid] == ["AccountIamDelegation"]
    error_message = "The default policy holds only the account delegation."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[0].Principal.AWS == "arn:aws:iam::111122223333:root"
    error_message = "The account root is read from the key's own ARN."
  }

  assert {
    condition     = !contains(flatten([for s in jsondecode(output.policy_json).Statement : [s.Action]]), "kms:*")
    error_message = "Actions are listed, never kms:*."
  }
}

run "service_statement_with_condition" {
  command = apply

  variables {
    alias = "orders"
    statements = [{
      sid        = "CloudWatchLogs"
      principals = ["logs.eu-west-1.amazonaws.com"]
      actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
      conditions = [
        {
          test     = "ArnEquals"
          variable = "kms:EncryptionContext:aws:logs:arn"
          values   = ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders"]
        },
        {
          test     = "StringEquals"
          variable = "aws:SourceArn"
          values   = ["arn:{partition}:cloudwatch:eu-west-1:{account_id}:alarm:orders-*"]
        },
      ]
    }]
    log_groups = {
      CloudWatchLogsForProcessor = "/aws/lambda/orders-processor"
    }
  }

  assert {
    condition     = length(aws_kms_alias.this) == 1 && aws_kms_alias.this[0].name == "alias/orders"
    error_message = "The alias is created with the alias/ prefix."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[1].Sid == "CloudWatchLogs"
    error_message = "Caller statements follow the account delegation."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[1].Principal.Service == "logs.eu-west-1.amazonaws.com"
    error_message = "Service principals are rendered as Service."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders"
    error_message = "Conditions are rendered as given."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[1].Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-*"
    error_message = "{partition} and {account_id} must be replaced by the key's own partition and account."
  }

  assert {
    condition = (
      jsondecode(output.policy_json).Statement[2].Sid == "CloudWatchLogsForProcessor" &&
      jsondecode(output.policy_json).Statement[2].Principal.Service == "logs.eu-west-1.amazonaws.com" &&
      sort(jsondecode(output.policy_json).Statement[2].Action) == sort(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
    )
    error_message = "Each log_groups entry must add, after the caller's statements, a CloudWatch Logs statement of this Region with the actions it needs."
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[2].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor"
    error_message = "A log_groups statement must be pinned to its log group in the key's own account and partition."
  }
}
