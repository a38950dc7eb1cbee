"""Run an app with uvicorn in a background thread: tests, benchmarks and notebooks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvicorn

__all__ = ["BackgroundServer"]

T = TypeVar("T")


class BackgroundServer:
    """A real uvicorn server on loopback, in a thread with its own event loop.

    Parameters
    ----------
    app : ASGI app
        The app to serve (its lifespan runs on start and stop).
    host : str
        Address to bind (default loopback).
    port : int
        Port; 0 picks a free one (see :attr:`port` once started).
    **config
        More ``uvicorn.Config`` options.

    Examples
    --------
    >>> import httpx
    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> _ = app.get("/hello")(lambda: {"hello": "world"})
    >>> with BackgroundServer(app) as server:
    ...     httpx.get(server.url + "/hello").json()
    {'hello': 'world'}
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        config.setdefault("log_level", "warning")
        self.config = uvicorn.Config(app, host=host, port=port, lifespan="on", **config)
        self.server = uvicorn.Server(self.config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self.server.serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            loop.close()

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        """Start serving; return once the server accepts connections.

        Raises
        ------
        RuntimeError
            If the server did not start within ``timeout`` seconds.
        """
        self._thread = threading.Thread(target=self._run, name="nexus-uvicorn", daemon=True)
        self._thread.start()
        waited = 0.0
        while not self.server.started:
            if not self._thread.is_alive() or waited > timeout:
                self.stop()
                raise RuntimeError(f"uvicorn did not start: {self._error!r}")
            self._thread.join(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving (the app's lifespan shutdown runs) and join the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port``."""
        return f"ws://{self.config.host}:{self.port}"

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server's event loop from another thread; return its result."""
        assert self.loop is not None, "start() the server first"
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Call ``fn(*args)`` on the server's event loop (e.g. ``bus.publish``); return it."""

        async def call() -> T:
            return fn(*args)

        return self.run(call(), timeout)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
