"""Setting up the app's interpreter for work on whole files. No Qt."""

from __future__ import annotations


def prepare_for_files() -> None:
    """Arrow's memory as the command line sets it (``files.use_lean_allocator``), and the
    cache directory for the tables validation builds once (``contacts.use_cache_dir``).
    """
    from outbound_desk.config import cache_dir
    from outbound_desk.contacts import use_cache_dir
    from outbound_desk.files import use_lean_allocator

    use_lean_allocator()
    use_cache_dir(cache_dir())
