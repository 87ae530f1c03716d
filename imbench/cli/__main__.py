from imbench.cli.app import main

main()
