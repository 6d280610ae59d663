"""The public data-protection requests: ask for a copy or an erasure, confirm by email link."""
