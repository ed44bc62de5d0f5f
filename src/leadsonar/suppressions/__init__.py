"""Suppression and erasure: addresses and domains never returned nor probed (docs/privacy.md)."""
