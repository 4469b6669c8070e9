# Every validation rule and precondition is proven to reject a bad value (both
# sides of the bounded ranges). Variable checks are independent, so one run
# sets several variables to bad values -- each labelled with the rule it
# proves -- and lists each in expect_failures: the run fails when any rule
# stops rejecting its value ("Missing expected failure"), or when anything
# else fails. A variable, and an expected failure, appear once per run, hence
# several runs. Runs that check more than an expected failure stay on their own.

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

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # deletion_window_below_range
    deletion_window_in_days = 6

    # description_empty
    description = ""

    # alias_with_prefix
    alias = "alias/orders"

    # statement_sids_duplicated
    statements = [
      { sid = "Logs", principals = ["logs.amazonaws.com"], actions = ["kms:Decrypt"] },
      { sid = "Logs", principals = ["sns.amazonaws.com"], actions = ["kms:Decrypt"] },
    ]

    # log_group_sid_reserved
    log_groups = { AccountIamDelegation = "/aws/lambda/orders" }
  }

  expect_failures = [
    var.deletion_window_in_days,
    var.description,
    var.alias,
    var.statements,
    var.log_groups,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # deletion_window_above_range
    deletion_window_in_days = 31

    # alias_reserved_for_aws
    alias = "aws/orders"

    # statement_sid_reserved
    statements = [
      { sid = "AccountIamDelegation", principals = ["logs.amazonaws.com"], actions = ["kms:Decrypt"] },
    ]
  }

  expect_failures = [
    var.deletion_window_in_days,
    var.alias,
    var.statements,
  ]
}

run "rejects_invalid_values_3" {
  command = plan

  variables {
    # deletion_window_fractional
    deletion_window_in_days = 7.5

    # statement_principal_type_unknown
    statements = [
      { sid = "Logs", principal_type = "Federated", principals = ["x"], actions = ["kms:Decrypt"] },
    ]
  }

  expect_failures = [
    var.deletion_window_in_days,
    var.statements,
  ]
}

run "rejects_invalid_values_4" {
  command = plan

  variables {
    # statement_without_principals
    statements = [
      { sid = "Logs", principals = [], actions = ["kms:Decrypt"] },
    ]
  }

  expect_failures = [
    var.statements,
  ]
}

run "rejects_invalid_values_5" {
  command = plan

  variables {
    # statement_wildcard_action
    statements = [
      { sid = "Logs", principals = ["logs.amazonaws.com"], actions = ["kms:*"] },
    ]
  }

  expect_failures = [
    var.statements,
  ]
}
