#!/usr/bin/env python3
"""Validates a JSON document (stdin) against one of git-rag's schemas with jsonschema.

Usage: validate_json.py SCHEMA_FILE < document.json
Exit 0 when valid; otherwise prints each violation (path: message) and exits 1.
"""
import json
import sys

from jsonschema import Draft202012Validator


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    document = json.load(sys.stdin)
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        print(f"{'/'.join(str(p) for p in error.path) or '(root)'}: {error.message}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
