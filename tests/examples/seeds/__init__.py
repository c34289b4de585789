"""The seed documents' code examples, copied verbatim (only import lines changed)."""
