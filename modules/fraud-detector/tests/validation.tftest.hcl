# Every validation rule is proven to reject a bad value (both sides of the bounded ranges).
# Variable checks are independent, so one run sets several variables to bad values -- each
# labelled with the rule it proves -- and lists each in expect_failures.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name    = "shop"
  package = { filename = "../../build/fraud_detector.zip" }
}

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # name_too_long
    name = "a-name-of-more-than-forty-characters-is-refused"

    # package_without_code
    package = {}

    # handler_not_a_python_path
    handler = "app:lambda_handler"

    # history_ttl_below_range
    history_ttl_days = 0

    # counts_below_range
    thresholds = { purchase_count = 0 }
  }

  expect_failures = [var.name, var.package, var.handler, var.history_ttl_days, var.thresholds]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # package_with_both
    package = { filename = "a.zip", source_dir = "src" }

    # history_ttl_above_range
    history_ttl_days = 366

    # cart_burst_count_above_range
    thresholds = { cart_burst_count = 1001 }
  }

  expect_failures = [var.package, var.history_ttl_days, var.thresholds]
}

run "rejects_amount_with_three_decimals" {
  command = plan

  variables {
    thresholds = { purchase_amount = 10.005 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_amount_above_range" {
  command = plan

  variables {
    thresholds = { purchase_amount = 10000000.01 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_amount_below_range" {
  command = plan

  variables {
    thresholds = { purchase_amount = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_window_below_range" {
  command = plan

  variables {
    thresholds = { velocity_window_seconds = 59 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_window_above_range" {
  command = plan

  variables {
    thresholds = { cart_burst_window_seconds = 86401 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_fractional_window" {
  command = plan

  variables {
    thresholds = { velocity_window_seconds = 90.5 }
  }

  expect_failures = [var.thresholds]
}
