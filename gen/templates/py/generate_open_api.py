"""Write {{name}}'s OpenAPI document as JSON.

    uv run --package {{name}} python scripts/generate_open_api.py OUTPUT.json

Run by the `{{name}}:openapi` target; the output feeds the TypeScript metadata
codegen of the infrastructure.  Keys are sorted so the file only changes when the
API does.
"""

import json
import pathlib
import sys

from {{module}}.main import app


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: generate_open_api.py OUTPUT.json", file=sys.stderr)
        return 2
    out = pathlib.Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
