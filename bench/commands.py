"""The commands both satellite benchmarks speak (bench/satellite.py and, through a
real HA, bench/wyoming_path.py), so the direct and the Wyoming path hear the same."""

COMMANDS = (
    "Turn on the kitchen lights.",
    "What's the weather like tomorrow?",
    "Set a timer for ten minutes.",
    "Who won the game last night?",
    "Close the garage door.",
)
