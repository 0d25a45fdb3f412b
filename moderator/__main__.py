from moderator.cli import main

raise SystemExit(main())
