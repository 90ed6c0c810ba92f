from stechec.cli.main import main

main()
