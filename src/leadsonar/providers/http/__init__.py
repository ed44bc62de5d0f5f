"""Bring-your-own-key HTTP providers: one module per vendor, the shared :mod:`.base`, and
:mod:`.adapters` (which ones exist and how they are built from the settings)."""
