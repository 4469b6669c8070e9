# The orders table: what the team adds for its consumer, next to its entry in main.tf's
# consumers and its code in functions/. Encrypted with a key of its own, point-in-time recovery.

module "orders_key" {
  source      = "../../modules/kms-key"
  description = "Orders table ${var.name}-orders"
}

resource "aws_dynamodb_table" "orders" {
  name         = "${var.name}-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "orderId"

  attribute {
    name = "orderId"
    type = "S"
  }
  point_in_time_recovery { enabled = true }
  server_side_encryption {
    enabled     = true
    kms_key_arn = module.orders_key.key_arn
  }
}
