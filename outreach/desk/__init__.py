"""The event desk: registrations, exports, announcements and check-in, for staff and hosts."""
