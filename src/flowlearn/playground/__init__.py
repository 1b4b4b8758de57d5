"""The local web playground (a later issue)."""
