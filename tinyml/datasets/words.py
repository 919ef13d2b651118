"""Words for the ``_unknown_`` class of a synthetic keyword set, and keyword folder names.

A keyword spotter must say "unknown" to every word that is not a keyword, so the synthetic set
speaks many: the Speech Commands auxiliary words, phonetic neighbours of common keywords
(near-rhymes, shared onsets and vowels: "dawn" for "down", "lift" for "left", "stock" for
"stop"), numbers and everyday command-like words. Homophones of a keyword ("know" for "no",
"write" for "right") are never used: a person cannot say them differently. The keywords a
dataset is made for, and anything that sounds the same, are removed at synthesis time.
"""

from __future__ import annotations

import re

# The Speech Commands command words: keywords of the MLPerf Tiny set, other words for any other.
SPEECH_COMMANDS_COMMANDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
SPEECH_COMMANDS_AUXILIARY = ("bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin",
                             "nine", "one", "seven", "sheila", "six", "three", "tree", "two", "wow", "zero",
                             "backward", "forward", "follow", "learn", "visual")
NEIGHBOURS = (
    # down / go / no
    "dawn", "town", "gown", "done", "don", "doubt", "dog", "goal", "ghost", "gold", "goat", "gum", "grow", "toe",
    "snow", "now", "nose", "note", "known", "gnome", "new", "nod", "low", "show", "dough", "road", "code",
    # left / right / yes
    "lift", "lest", "loft", "laughed", "let", "leaf", "deft", "theft", "west", "light", "bright", "night", "ride",
    "rice", "rip", "bite", "white", "fight", "wide", "rate", "yet", "yeah", "yell", "less", "guess", "dress",
    "mess", "bless", "chess", "jess", "use",
    # off / on / up / stop
    "of", "cough", "soft", "awful", "often", "oft", "scoff", "doff", "own", "an", "in", "upon", "honk", "ton",
    "john", "gone", "song", "upper", "cup", "pup", "app", "hop", "hub", "pop", "sup", "stock", "step", "stuff",
    "shop", "top", "spot", "star", "store", "slop", "drop", "stomp", "stub",
)
EVERYDAY = ("hello", "okay", "please", "thank you", "music", "water", "coffee", "morning", "evening", "window",
            "open", "close", "start", "begin", "finish", "again", "maybe", "never", "always", "listen", "play",
            "pause", "next", "previous", "louder", "quiet", "table", "chair", "kitchen", "garden", "paper",
            "yellow", "purple", "orange", "green", "blue", "red", "black", "apple", "banana", "computer",
            "telephone", "camera", "picture", "ten", "eleven", "twelve", "twenty", "hundred", "first", "second",
            "minute", "hour", "today", "tomorrow", "monday", "friday", "weather", "summer", "winter", "mountain",
            "river", "ocean", "brother", "sister", "mother", "father", "people", "little", "very", "really",
            "something", "nothing", "everything", "where", "when", "what", "which", "there", "here", "this",
            "that", "with", "about", "would", "could", "should", "alexa", "siri", "google", "computer on")
# Words people say the same way as a keyword: never spoken as `_unknown_` next to it.
HOMOPHONES = {"no": ("know", "noh"), "right": ("write", "rite", "wright"), "two": ("to", "too"),
              "four": ("for", "fore"), "one": ("won",), "eight": ("ate",), "off": (), "up": (), "yes": (),
              "see": ("sea",), "red": ("read",)}


def folder_name(keyword: str) -> str:
    """The Speech Commands folder of a keyword or phrase: 'lights on' -> 'lights_on', "what's up" -> 'whats_up'."""
    return re.sub(r"[^a-z0-9]+", "_", keyword.lower().replace("'", "")).strip("_")


def spoken(folder: str) -> str:
    """The text to speak for a folder name: 'lights_on' -> 'lights on'."""
    return folder.replace("_", " ")


def unknown_words(keywords: tuple[str, ...]) -> tuple[str, ...]:
    """The non-keyword vocabulary for these keywords (spoken forms), without the keywords, their
    homophones, or phrases containing a keyword."""
    said = {spoken(k) for k in keywords}
    banned = said | {h for k in said for h in HOMOPHONES.get(k, ())}
    seen: dict[str, None] = {}
    for word in (*SPEECH_COMMANDS_COMMANDS, *SPEECH_COMMANDS_AUXILIARY, *NEIGHBOURS, *EVERYDAY):
        parts = set(word.split())
        if word not in banned and not parts & said and not any(k in word for k in said if " " in k):
            seen.setdefault(word, None)
    return tuple(seen)
