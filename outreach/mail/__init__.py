"""Mail: composing messages, the outbox, the worker and the transports."""
