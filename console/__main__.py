"""``python -m console``: the same as the ``perpdesk`` command."""

from console.cli import main

raise SystemExit(main())
