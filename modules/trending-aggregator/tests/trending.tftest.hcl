# The aggregates table, the dashboard and the consumer entry modules/pipeline deploys the
# aggregator from; every validation rule rejects a bad value (one run per variable at fault,
# several rules of one variable proven by separate runs).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "eu-west-1"
    }
  }
}

variables {
  name              = "orders"
  metrics_namespace = "StreamPipeline/orders"
  package           = { filename = "../../build/trending_aggregator.zip" }
}

run "consumer_is_a_window_aware_pipeline_consumer" {
  command = plan

  assert {
    condition = (
      output.consumer.handler == "trending_aggregator.app.lambda_handler" &&
      output.consumer.window_aware == true &&
      output.consumer.tumbling_window_in_seconds == 60 &&
      output.consumer.parallelization_factor == 1 &&
      output.consumer.table_name == "orders-trending-aggregates" &&
      output.consumer.environment_variables["STORED_PRODUCTS_PER_TYPE"] == "50" &&
      output.consumer.environment_variables["AGGREGATES_RETENTION_DAYS"] == "90" &&
      output.consumer.environment_variables["POWERTOOLS_SERVICE_NAME"] == "trending_aggregator"
    )
    error_message = "The consumer entry must declare the window (window_aware, one lane per shard) and the aggregator's table and settings."
  }

  assert {
    condition = (
      aws_dynamodb_table.this.hash_key == "windowStart" &&
      aws_dynamodb_table.this.range_key == "part" &&
      aws_dynamodb_table.this.ttl[0].attribute_name == "expiresAt" &&
      aws_dynamodb_table.this.point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this.server_side_encryption[0].enabled &&
      aws_dynamodb_table.this.deletion_protection_enabled
    )
    error_message = "The aggregates table is keyed by window and part, expires items by TTL, and is encrypted with its own key, protected and recoverable."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 4 && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "100 * purchases / views")
    error_message = "The dashboard shows the funnel, the conversion (metric math), windows and dead letters, and where top products live."
  }
}

run "settings_reach_the_consumer" {
  command = plan

  variables {
    aggregates        = { stored_products_per_type = 200, retention_days = 3650, deletion_protection = false }
    consumer_settings = { tumbling_window_in_seconds = 900, batch_size = 10000, enhanced_fan_out = false, maximum_batching_window_in_seconds = 300 }
  }

  assert {
    condition = (
      output.consumer.tumbling_window_in_seconds == 900 &&
      output.consumer.batch_size == 10000 &&
      output.consumer.enhanced_fan_out == false &&
      output.consumer.maximum_batching_window_in_seconds == 300 &&
      output.consumer.environment_variables["STORED_PRODUCTS_PER_TYPE"] == "200" &&
      output.consumer.environment_variables["AGGREGATES_RETENTION_DAYS"] == "3650" &&
      !aws_dynamodb_table.this.deletion_protection_enabled
    )
    error_message = "Each setting (at the top of its range) must reach the consumer entry or the table."
  }
}

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # retention_days_below_1
    aggregates = { retention_days = 0 }
    # window_of_0: the aggregator needs a window
    consumer_settings = { tumbling_window_in_seconds = 0 }
    # namespace_reserved_for_aws
    metrics_namespace = "AWS/Lambda"
    # name_with_upper_case
    name = "Orders"
    # both_filename_and_source_dir
    package = { filename = "a.zip", source_dir = "functions" }
  }

  expect_failures = [var.aggregates, var.consumer_settings, var.metrics_namespace, var.name, var.package]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # stored_products_above_200
    aggregates = { stored_products_per_type = 201 }
    # window_above_900
    consumer_settings = { tumbling_window_in_seconds = 901 }
    # name_above_40_characters
    name = "a2345678901234567890123456789012345678901"
    # neither_filename_nor_source_dir
    package = {}
  }

  expect_failures = [var.aggregates, var.consumer_settings, var.name, var.package]
}

run "rejects_invalid_values_3" {
  command = plan

  variables {
    # retention_days_above_3650
    aggregates = { retention_days = 3651 }
    # batch_size_above_10000
    consumer_settings = { batch_size = 10001 }
  }

  expect_failures = [var.aggregates, var.consumer_settings]
}

run "rejects_invalid_values_4" {
  command = plan

  variables {
    # stored_products_below_1
    aggregates = { stored_products_per_type = 0 }
    # batching_window_above_300
    consumer_settings = { maximum_batching_window_in_seconds = 301 }
  }

  expect_failures = [var.aggregates, var.consumer_settings]
}

run "rejects_invalid_values_5" {
  command = plan

  variables {
    # memory_below_128
    consumer_settings = { memory_size = 64 }
  }

  expect_failures = [var.consumer_settings]
}

run "rejects_invalid_values_6" {
  command = plan

  variables {
    # timeout_above_900
    consumer_settings = { timeout = 901 }
  }

  expect_failures = [var.consumer_settings]
}
