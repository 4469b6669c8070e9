# The fraud detector (functions/fraud_detector, issue #17): its tables, alert topic and key
# here; the function is one more consumer of the pipeline (main.tf: consumers.fraud), reading
# purchases and add-to-carts through its own enhanced fan-out consumer. Default thresholds
# (modules/fraud-detector); the producer's ordinary users stay under them and its planted
# fraudulent users trip them (docs/producer.md).

module "fraud" {
  source = "../../modules/fraud-detector"

  name = "${var.project}-${var.environment}"
  # `make package` builds it with the other functions.
  package             = { filename = "${path.root}/../../build/fraud_detector.zip" }
  deletion_protection = var.results_table_deletion_protection
}
