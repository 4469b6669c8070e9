# Module defaults: on-demand capacity, 7-day retention, a key created by the module.
name = "orders"
