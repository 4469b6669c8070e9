# The fraud detector's resources with every threshold set; its `consumer` output is what a
# stack adds to modules/pipeline's consumers (environments/_shared/fraud.tf).
module "fraud" {
  source = "../.."

  name    = "shop-prod"
  package = { filename = "../../../../build/fraud_detector.zip" }

  thresholds = {
    purchase_count            = 10
    purchase_amount           = 2500.5
    velocity_window_seconds   = 900
    cart_burst_count          = 12
    cart_burst_window_seconds = 600
  }
  history_ttl_days    = 30
  deletion_protection = true

  tags = {
    example = "fraud-detector/complete"
  }
}

output "consumer" {
  description = "The modules/pipeline consumers entry."
  value       = module.fraud.consumer
}
