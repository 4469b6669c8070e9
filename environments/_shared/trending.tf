# The trending aggregator (issue #17): windowed top products, conversion and countries, one more
# consumer of the pipeline (main.tf's consumers map: trending = module.trending.consumer), with
# its aggregates table and business dashboard. Linked into every environment like the other
# _shared files.

variable "trending" {
  type = object({
    retention_days             = optional(number, 90)
    stored_products_per_type   = optional(number, 50)
    tumbling_window_in_seconds = optional(number, 60)
  })
  description = "The trending aggregator: tumbling_window_in_seconds 1-900 (default 60, the window length), stored_products_per_type 1-200 (default 50, products per event type kept in a window's item), retention_days 1-3,650 (default 90, the items' TTL). modules/trending-aggregator validates the ranges."
  default     = {}
  nullable    = false

  validation {
    condition     = var.trending.tumbling_window_in_seconds >= 1 && var.trending.tumbling_window_in_seconds <= 900
    error_message = "trending.tumbling_window_in_seconds must be between 1 and 900."
  }
}

module "trending" {
  source = "../../modules/trending-aggregator"

  name              = "${var.project}-${var.environment}"
  metrics_namespace = module.pipeline.metrics_namespace
  package           = { filename = "${path.root}/../../build/trending_aggregator.zip" }

  consumer_settings = {
    tumbling_window_in_seconds = var.trending.tumbling_window_in_seconds
    enhanced_fan_out           = var.use_enhanced_fan_out
  }
  aggregates = {
    deletion_protection      = var.results_table_deletion_protection
    retention_days           = var.trending.retention_days
    stored_products_per_type = var.trending.stored_products_per_type
  }
}

output "trending_aggregates_table_name" {
  description = "The trending aggregator's table: one item per window and shard (Query windowStart = <window start>)."
  value       = module.trending.aggregates_table_name
}

output "trending_dashboard_name" {
  description = "The trending aggregator's CloudWatch business dashboard."
  value       = module.trending.dashboard_name
}

output "trending_window_seconds" {
  description = "Length of the trending aggregator's tumbling windows, in seconds."
  value       = var.trending.tumbling_window_in_seconds
}
