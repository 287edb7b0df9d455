from sorter.cli import main

main()
