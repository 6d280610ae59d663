"""Becoming a partner: the public application form and its review by staff."""
