"""``banscan serve``: the estate service (FastAPI on Uvicorn) and its exports.

``banscan.serve.app.create_app`` builds the ASGI application; ``banscan.serve.exports`` (no web
dependencies) generates osquery packs and Fleet policies from the registry.
"""
