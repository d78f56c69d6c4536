from banscan.cli import entry

entry()
