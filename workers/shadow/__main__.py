"""`python -m workers.shadow`: the shadow policy's command line (`moderator shadow`)."""

from workers.shadow.cli import main

raise SystemExit(main())
