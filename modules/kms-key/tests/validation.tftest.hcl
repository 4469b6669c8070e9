# One failing plan per validation rule, so each rule is proven to reject bad input.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  description = "test key"
}

run "deletion_window_below_range" {
  command = plan
  variables {
    deletion_window_in_days = 6
  }
  expect_failures = [var.deletion_window_in_days]
}

run "deletion_window_above_range" {
  command = plan
  variables {
    deletion_window_in_days = 31
  }
  expect_failures = [var.deletion_window_in_days]
}

run "deletion_window_fractional" {
  command = plan
  variables {
    deletion_window_in_days = 7.5
  }
  expect_failures = [var.deletion_window_in_days]
}

run "description_empty" {
  command = plan
  variables {
    description = ""
  }
  expect_failures = [var.description]
}

run "alias_with_prefix" {
  command = plan
  variables {
    alias = "alias/orders"
  }
  expect_failures = [var.alias]
}

run "alias_reserved_for_aws" {
  command = plan
  variables {
    alias = "aws/orders"
  }
  expect_failures = [var.alias]
}

run "statement_sids_duplicated" {
  command = plan
  variables {
    statements = [
      { sid = "Logs", principals = ["logs.amazonaws.com"], actions = ["kms:Decrypt"] },
      { sid = "Logs", principals = ["sns.amazonaws.com"], actions = ["kms:Decrypt"] },
    ]
  }
  expect_failures = [var.statements]
}

run "statement_sid_reserved" {
  command = plan
  variables {
    statements = [
      { sid = "AccountIamDelegation", principals = ["logs.amazonaws.com"], actions = ["kms:Decrypt"] },
    ]
  }
  expect_failures = [var.statements]
}

run "statement_principal_type_unknown" {
  command = plan
  variables {
    statements = [
      { sid = "Logs", principal_type = "Federated", principals = ["x"], actions = ["kms:Decrypt"] },
    ]
  }
  expect_failures = [var.statements]
}

run "statement_without_principals" {
  command = plan
  variables {
    statements = [
      { sid = "Logs", principals = [], actions = ["kms:Decrypt"] },
    ]
  }
  expect_failures = [var.statements]
}

run "statement_wildcard_action" {
  command = plan
  variables {
    statements = [
      { sid = "Logs", principals = ["logs.amazonaws.com"], actions = ["kms:*"] },
    ]
  }
  expect_failures = [var.statements]
}

run "log_group_sid_reserved" {
  command = plan
  variables {
    log_groups = { AccountIamDelegation = "/aws/lambda/orders" }
  }
  expect_failures = [var.log_groups]
}
