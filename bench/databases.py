"""Throwaway databases for the benchmarks, on this machine only."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing to touch {host!r}: the bench only talks to 127.0.0.1")


def postgresql_database(url: str) -> str | None:
    """Drop and create the bench database; None (with a message) when unreachable."""
    import psycopg
    from psycopg import sql

    require_loopback(url)
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        print(f"postgresql: skipped, {admin_url} is unreachable ({error})".strip())
        return None
    return url
