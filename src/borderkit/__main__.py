from borderkit.cli.main import main

main()
