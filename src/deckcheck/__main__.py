from deckcheck.commands.cli import main

raise SystemExit(main())
