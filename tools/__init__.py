"""Repository tooling: Terraform staging, README tables, packaging."""
