# Smallest useful stream: on-demand capacity, 7-day retention and a dedicated
# customer managed key, all from the module defaults.
module "kinesis_stream" {
  source = "../.."

  name = "example-minimal"
}
