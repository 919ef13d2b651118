from tinyml.cli.main import main

raise SystemExit(main())
