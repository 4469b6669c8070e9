# The trending aggregator's resources with every setting given; its `consumer` output is what a
# stack adds to modules/pipeline's consumers (environments/_shared/trending.tf).
module "trending" {
  source = "../.."

  name              = "shop-prod"
  metrics_namespace = "StreamPipeline/shop-prod"
  package           = { filename = "../../../../build/trending_aggregator.zip" }

  consumer_settings = {
    batch_size                 = 1000
    enhanced_fan_out           = true
    memory_size                = 512
    tumbling_window_in_seconds = 300
  }
  aggregates = {
    deletion_protection      = true
    retention_days           = 30
    stored_products_per_type = 20
  }

  tags = {
    example = "trending-aggregator/complete"
  }
}

output "consumer" {
  description = "The modules/pipeline consumers entry."
  value       = module.trending.consumer
}
