"""Sentences for non-wake speech: what a household says near a satellite.

Two disjoint lists: TRAIN for training negatives, HELD_OUT for tests and benchmarks, so
an evaluation never hears a sentence the model was trained on.
"""

TRAIN = (
    "Could you pass me the salt, please?",
    "I think the meeting starts at ten tomorrow morning.",
    "The kids left their shoes in the hallway again.",
    "We should paint the fence before the summer ends.",
    "Did anyone feed the cat this morning?",
    "The train was twenty minutes late because of the snow.",
    "My sister is visiting us next weekend with her husband.",
    "Please remember to buy milk, eggs and some bread.",
    "That movie was much longer than I expected.",
    "The garden needs water after such a hot afternoon.",
    "He finally fixed the leaking tap in the bathroom.",
    "Let's order pizza tonight instead of cooking.",
    "The library closes early on Saturdays.",
    "I can't find my keys anywhere in this house.",
    "The football game went into overtime last night.",
    "She plays the piano every evening after dinner.",
    "We need a new battery for the smoke detector.",
    "The neighbours are having a party on Friday.",
    "Turn the music down a little, the baby is sleeping.",
    "What time does the pharmacy open on Sunday?",
    "The weather report said it might snow in the mountains.",
    "I left the laundry in the machine overnight.",
    "Grandma sent us a postcard from Lisbon.",
    "The printer is out of paper again.",
    "Our flight to Chicago leaves at seven fifteen.",
)

HELD_OUT = (
    "The dog barked at the mail carrier all morning.",
    "I'll call you back after lunch, I'm driving right now.",
    "Can you help me carry these boxes upstairs?",
    "The soup needs a little more pepper and some lemon.",
    "Tomorrow we are going hiking near the lake.",
    "He reads the newspaper every morning with his coffee.",
    "The children are building a castle out of blankets.",
    "Don't forget your umbrella, it looks like rain.",
    "The car needs new tires before winter comes.",
    "We watched the sunset from the balcony yesterday.",
    "My phone battery is almost empty.",
    "The bakery on the corner sells the best croissants.",
    "Please close the window, it's getting cold in here.",
    "The concert tickets sold out in ten minutes.",
    "I'm going to the gym after work today.",
    "She is learning to speak Spanish and Italian.",
    "The heating bill was higher than last month.",
    "Let's invite the Johnsons over for dinner on Sunday.",
    "The cat is sleeping on the warm laptop again.",
    "Turn on the kitchen lights and close the blinds.",
    "What's the weather like in Boston this weekend?",
    "Set a timer for twelve minutes for the pasta.",
    "Who won the basketball game last night?",
    "Are there any delays at the airport this evening?",
    "Play some quiet music in the living room.",
)

# Words and phrases that sound like "athena" or "hey jarvis" but are not them (training
# and held-out use them all, each with its own voices).
CONFUSABLES = (
    "athens",
    "ethan",
    "a thing",
    "arena",
    "at the end",
    "anthem",
    "hey siri",
    "jarvis",
    "hey jarvis",
    "alexa",
    "tina",
    "athenian",
    "catherine",
    "martina",
    "a theme",
    "then a",
    "edna",
    "helena",
    "ocean",
    "a tenor",
    "anything",
    "at least",
    "hyena",
    "the arena",
    "a thinner",
    "ok nabu",
    "hey mycroft",
    "kathleen",
    "regina",
    "christina",
    "athlete",
    "lasagna",
    "a thena",
    "athenian army",
    "at the end of it",
    "the antenna",
    "a tanner",
    "ethanol",
    "arthur",
    "at ten a.m.",
    # close to "hey jarvis" (stage 2 must tell them apart): the same vowels or rhyme
    "hey jarred",
    "hey java",
    "hey travis",
    "hey marvin",
    "harvest",
    "hey service",
)

_SUBJECTS = (
    "my brother",
    "the teacher",
    "our neighbour",
    "the old man",
    "a little girl",
    "my boss",
    "the doctor",
    "the children",
    "your friend",
    "the driver",
    "my aunt",
    "the chef",
)
_VERBS = (
    "found",
    "painted",
    "forgot",
    "carried",
    "cleaned",
    "sold",
    "borrowed",
    "fixed",
    "lost",
    "ordered",
    "described",
    "brought",
)
_OBJECTS = (
    "a red umbrella",
    "the broken chair",
    "three apples",
    "an old guitar",
    "the map",
    "a birthday cake",
    "the blue car",
    "two tickets",
    "the garden hose",
    "a warm coat",
    "the kitchen table",
    "some fresh bread",
)
_TAILS = (
    "yesterday",
    "last summer",
    "before dinner",
    "on the way home",
    "in the morning",
    "after the game",
    "near the station",
    "for no reason",
    "at the market",
    "again",
)


def random_sentences(rng, count: int) -> list[str]:
    """Return `count` random sentences "subject verb object tail." drawn with `rng`."""
    return [
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
        f"{rng.choice(_TAILS)}."
        for _ in range(count)
    ]
