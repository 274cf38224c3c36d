"""`python -m rustok_sim`: the same command line as `rustok-sim`."""

from rustok_sim.cli import console_main

console_main()
