"""The local web playground (a later issue): nothing public yet."""

__all__: list[str] = []
