"""Unsubscribe and mail preferences: pages a signed link opens, without an account."""
