"""`python -m bot` runs the tcbot command line."""

from bot.cli import main

main()
