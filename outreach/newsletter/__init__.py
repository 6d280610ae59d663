"""The newsletter's public pages: subscribing with double opt-in, and the archive of issues."""
