"""The ``imbench`` command line, by command group.

- run and operate (``run``, ``rescore``, ``sync``, ``serve``, ``ui``): ``cli.run``
- browse results (``leaderboard``, ``runs``, ``cells``, ``datasets``): ``cli.browse``
- compare (``compare``, ``diff``, ``report``, ``advise``, ``audit``): ``cli.compare``
- methods (``list``, ``check``): ``cli.methods``
- ship (``export``): ``cli.export``

A command parses its flags, calls the core once and prints; tables are drawn in
``cli.render`` and ``cli.render_compare``; ``cli.app`` holds the one error path.
"""

# importing a group registers its commands; --help lists them in this order
from imbench.cli import run  # noqa: I001, F401
from imbench.cli import browse, compare, export, methods  # noqa: F401
from imbench.cli.app import app, main

__all__ = ["app", "main"]
