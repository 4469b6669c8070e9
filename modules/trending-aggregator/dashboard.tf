# The business dashboard: the EMF counts the aggregator emits on each window's final invocation
# (WindowViews, WindowAddToCarts, WindowPurchases, WindowsAggregated; dimension service), the
# view -> purchase conversion as metric math, and the records it dead-lettered. Top products and
# countries live in the table (per window and shard; docs/trending.md has the query).

data "aws_region" "current" {}

locals {
  dimensions = ["service", local.service_name]
  # CloudWatch periods above 60 s are multiples of 60.
  period = max(60, ceil(var.consumer_settings.tumbling_window_in_seconds / 60) * 60)

  dashboard_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "Funnel per window: views, add to cart, purchases"
        region  = data.aws_region.current.id
        view    = "timeSeries"
        stacked = false
        period  = local.period
        stat    = "Sum"
        metrics = [
          concat([var.metrics_namespace, "WindowViews"], local.dimensions, [{ label = "Views" }]),
          concat([var.metrics_namespace, "WindowAddToCarts"], local.dimensions, [{ label = "Add to cart" }]),
          concat([var.metrics_namespace, "WindowPurchases"], local.dimensions, [{ label = "Purchases" }]),
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "View -> purchase conversion (%)"
        region = data.aws_region.current.id
        view   = "timeSeries"
        period = local.period
        stat   = "Sum"
        metrics = [
          concat([var.metrics_namespace, "WindowViews"], local.dimensions, [{ id = "views", visible = false }]),
          concat([var.metrics_namespace, "WindowPurchases"], local.dimensions, [{ id = "purchases", visible = false }]),
          [{ expression = "IF(views > 0, 100 * purchases / views, 0)", label = "Conversion %", id = "conversion" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "Windows aggregated and records dead-lettered"
        region = data.aws_region.current.id
        view   = "timeSeries"
        period = local.period
        stat   = "Sum"
        metrics = [
          concat([var.metrics_namespace, "WindowsAggregated"], local.dimensions, [{ label = "Window items written" }]),
          concat([var.metrics_namespace, "RecordsSentToDlq"], local.dimensions, [{ label = "Records sent to the DLQ" }]),
        ]
      }
    },
    {
      type = "text", x = 12, y = 6, width = 12, height = 6
      properties = {
        markdown = join("\n", [
          "## Top products and countries",
          "Per window and shard in DynamoDB table `${local.table_name}`: `Query windowStart = :start` returns one item per shard; sum their `views`, `addToCarts`, `purchases` and `countries` maps for the window (`stream-pipeline`'s trending report does it, see docs/trending.md).",
        ])
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-trending"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
