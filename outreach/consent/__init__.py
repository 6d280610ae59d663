"""Consent and the privacy notice: the public page at /privacy and its texts.

``wording/`` holds every released consent text and ``notice/`` the privacy
notice, one file per version and language (see outreach/services/consent.py).
"""
