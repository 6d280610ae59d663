"""The partner workspace: an organisation's profile and events, proposals for review."""
