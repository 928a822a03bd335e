from diffsci.cli import main

raise SystemExit(main())
