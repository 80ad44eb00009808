"""Offline Terraform tooling: a schema-only OpenStack provider and the mirror that serves it."""
