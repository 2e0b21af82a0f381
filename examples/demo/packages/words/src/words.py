"""words: the vocabulary of the demo."""

GREETINGS = {"en": "Hello", "fr": "Bonjour", "de": "Hallo"}


def greeting(lang="en"):
    return GREETINGS.get(lang, GREETINGS["en"])
