"""The Typer app, its one error path and the process's end.

Every command shares one error path: an ``ImbenchError`` (a bad config, flag, file
or dataset; anything the user can fix) is one red line and exit code 2; anything
else is a bug, logged with its traceback to a file the one line names.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from imbench.errors import ImbenchError, prefect_settings_problem

console = Console(width=None if sys.stdout.isatty() else 120)  # pipes get full tables
err = Console(stderr=True)

# option types the command groups share
ListOpt = list[str] | None
OutOpt = Annotated[Path, typer.Option("--out", help="results root")]
SweepArg = Annotated[str | None, typer.Argument(help="sweep name (default: latest)")]
TrackingOpt = Annotated[str | None, typer.Option("--tracking-uri")]
ConfigArg = Annotated[
    Path | None,
    typer.Argument(help="TOML config whose [strategy.*] / [classifier.*] tables and plugins count"),
]
LOG_DIR_ENV = "IMBENCH_LOG_DIR"


def fail(message: str, code: int = 2) -> NoReturn:
    """One red line on stderr; exit code 2 (bad input) unless told."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[yellow]{escape(message)}[/]", highlight=False, soft_wrap=True)


class _App(typer.Typer):
    """A Typer app whose commands all end through ``fail`` on an ImbenchError."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def guarded(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except ImbenchError as exc:
                    fail(str(exc))
                except Exception as exc:
                    problem = prefect_settings_problem(exc)
                    if problem is None:
                        raise
                    fail(problem)

            register(guarded)
            return fn

        return decorator


app = _App(
    add_completion=False,
    no_args_is_help=False,
    help="imbench: an honest benchmark of class-imbalance strategies.",
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        from imbench import __version__

        console.print(f"imbench {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help())


def main() -> None:
    """Entry point: anything unexpected is logged with its traceback, and the user is
    told where, in one line (errors a user can fix never reach here)."""
    from imbench.process import exit_process

    try:
        app()
        code = 0
    except SystemExit as exc:  # how typer ends every command
        code = _exit_code(exc)
    except Exception as exc:  # noqa: BLE001 - the last resort: log, say where, exit 1
        code = _log_unexpected(exc)
    exit_process(code)


def _log_unexpected(exc: Exception) -> int:
    import datetime
    import traceback

    log_dir = Path(os.environ.get(LOG_DIR_ENV) or Path.home() / ".imbench" / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log = log_dir / f"error-{stamp}-{os.getpid()}.log"
    log.write_text(f"imbench {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    err.print(
        f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc)[:300])}\n"
        f"the traceback is in {log}; please report it with that file",
        highlight=False,
    )
    return 1


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message"): printed, exit status 1
    return 1
