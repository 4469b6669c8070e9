# Deletion protection of what holds records in flight: the stream (up to retention_period of
# data), the DLQ (14 days of failures) and the on-failure topic (the path of every failed
# batch). Kinesis, SQS and SNS have no deletion protection of their own, and Terraform's
# prevent_destroy cannot follow a variable, so this resource stands for the three: it has
# prevent_destroy, a destroy of the pipeline destroys it, and a replacement of any of the three
# (a rename, a changed key) replaces it through triggers_replace. Either way the plan fails
# before anything is deleted. Removing a pipeline on purpose: see the README.
resource "terraform_data" "deletion_protection" {
  count = var.deletion_protection ? 1 : 0

  triggers_replace = {
    dlq              = module.dlq.dlq_arn
    on_failure_topic = module.dlq.on_failure_destination_arn
    stream           = module.stream.stream_arn
  }

  lifecycle {
    prevent_destroy = true
  }
}
