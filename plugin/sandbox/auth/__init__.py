"""The sandbox's SMART authorization server, on authlib's server components."""

__all__: list[str] = []
