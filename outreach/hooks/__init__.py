"""Endpoints other systems call: the mail provider's delivery webhook."""
