"""Rendering: the one HCL encoder, the template engine that refuses raw values, cloud-init."""
