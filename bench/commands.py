"""The commands both satellite benchmarks speak (bench/satellite.py and, through a
real HA, bench/wyoming_path.py), so the direct and the Wyoming path hear the same."""

COMMANDS = (
    "Turn on the kitchen lights.",
    "What's the weather like tomorrow?",
    "Set a timer for ten minutes.",
    "Who won the game last night?",
    "Close the garage door.",
)

# A question for the model and the three sentences the benchmarks' backend streams
# back at a model's pace: the first should be heard before the backend has finished.
STORY = "Tell me about the Moon."
STORY_REPLY = (
    "The Moon is far from the Earth. It has no air, so its sky is always black. "
    "People last walked on it long ago."
)
