"""What the partner and staff workspaces share: the event form and read-only lookups."""
