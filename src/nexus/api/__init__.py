"""The Nexus API: REST, the WebSocket stream and the dashboard, in one FastAPI app.

:func:`create_app` builds the app around a store, a registry and a bus; the
app's :class:`StreamHub` fans bus events out to WebSocket clients. Run it with
uvicorn (``nexus serve``, ``nexus up``) or in a thread with
:class:`BackgroundServer`. ``nexus.client`` is its Python SDK. See ``docs/api.md``.

>>> from nexus.api import create_app
"""

from nexus.api._app import STATIC_DIR, create_app, plotly_js
from nexus.api._auth import API_KEY_HEADER
from nexus.api._hub import HubClient, StreamHub
from nexus.api._jobs import Job, JobBusyError, Jobs
from nexus.api._request_id import REQUEST_ID_HEADER
from nexus.api._serve import BackgroundServer
from nexus.api._ws import MAX_CLIENT_MESSAGE

__all__ = [
    "API_KEY_HEADER",
    "MAX_CLIENT_MESSAGE",
    "REQUEST_ID_HEADER",
    "STATIC_DIR",
    "BackgroundServer",
    "HubClient",
    "Job",
    "JobBusyError",
    "Jobs",
    "StreamHub",
    "create_app",
    "plotly_js",
]
