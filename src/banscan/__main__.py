from banscan.cli import main

main()
