"""A dependency-free test of the built app: run after hello:build."""

import greet
import main

assert greet.greet("bld") == "Hello, bld!", greet.greet("bld")
assert greet.greet("bld", "fr") == "Bonjour, bld!"
assert main.main(["hello", "tests"]) == 0
print("hello: tests passed")
