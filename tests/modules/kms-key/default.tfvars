# Account delegation only: what a module gets when its services use the caller's credentials.
description = "Results table of orders"
