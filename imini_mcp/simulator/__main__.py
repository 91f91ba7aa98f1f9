from imini_mcp.simulator import main

raise SystemExit(main())
