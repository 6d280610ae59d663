"""The staff workspace: review, publish, organisations and users, the mail queue."""
