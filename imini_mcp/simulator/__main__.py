from imini_mcp.simulator.cli import main

raise SystemExit(main())
