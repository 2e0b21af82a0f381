"""hello: the demo application."""

import sys

import greet


def main(argv):
    name = argv[1] if len(argv) > 1 else "World"
    print(greet.greet(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
