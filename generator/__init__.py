"""safespring-blueprints: GDPR-aligned Terraform blueprints for Safespring from a YAML spec."""

__version__ = "0.1.0"
