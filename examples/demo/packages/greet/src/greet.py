"""greet: builds a greeting from the words library."""

import words


def greet(name, lang="en"):
    return f"{words.greeting(lang)}, {name}!"
