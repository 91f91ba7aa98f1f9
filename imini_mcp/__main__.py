from imini_mcp.cli import main

main()
