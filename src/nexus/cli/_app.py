"""The ``nexus`` command: the root app, shared options and error handling."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pydantic
import typer

from nexus import __version__
from nexus.config import Settings, configure_logging
from nexus.errors import NexusError

__all__ = ["app", "main", "settings_of"]

app = typer.Typer(
    name="nexus",
    help="Nexus: an AI quant analyst. Ingest market data, learn from it, serve recommendations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (NEXUS_HOME); default ./.nexus.")
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(help="Store URL (NEXUS_STORE_URL): duckdb:///file or postgresql://..."),
    ] = None,
) -> None:
    """Nexus: an AI quant analyst."""
    overrides = {k: v for k, v in {"home": home, "store_url": store_url}.items() if v is not None}
    ctx.obj = Settings(**overrides)
    # text on stderr for people (NEXUS_LOG_FORMAT=json for a collector); stdout stays the output
    configure_logging(ctx.obj.log_level, ctx.obj.log_format)


@app.command()
def version() -> None:
    """Print the Nexus version."""
    typer.echo(__version__)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built for this invocation."""
    return ctx.find_root().obj


def _fail(message: str, code: int) -> int:
    print(f"nexus: error: {message}", file=sys.stderr, flush=True)
    return code


def _validation_message(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {msg}" if where else msg)
    return f"invalid {exc.title}: {'; '.join(parts)}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn every expected failure into one line and a non-zero exit code."""
    from nexus.cli import (  # noqa: F401
        _backtest,
        _data,
        _ingest,
        _live,
        _models,
        _monitor,
        _retrain,
        _train,
    )

    try:
        app(args=argv, prog_name="nexus")  # standalone: usage errors print and exit 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except NexusError as exc:
        return _fail(str(exc), 1)
    except pydantic.ValidationError as exc:
        return _fail(_validation_message(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    return 0
