"""The review room: a FastAPI app (``app.create_app``) with Jinja2 pages, HTMX and small ES modules,
where people review takes, leave notes and drawings, approve, and share playlists with clients."""
