#!/usr/bin/python3
"""Check the lab's JSON files against their schemas (schemas/*.schema.json).

usage: validate_reports.py [--schemas DIR] PATH...

Each PATH is a JSON file or a folder, walked for *.json files. The schema
of a file follows from its name and content:

  *.server.json                   server-<schema_version, or 1 without one>
  plan.json                       matrix-plan-<schema_version>
  points/*.json                   matrix-point-<schema_version, or 1>
  report.json, kind matrix-report matrix-report-<schema_version>
  soak.json                       soak-<its "soak" version> (bench/soak.sh)
  any other *.json                run-report-<schema_version>

One line per invalid file: the file, the JSON path of the first error
(jsonschema's most relevant one), the message and the schema. Then
"N files valid" when all were.

Exit status: 0 all valid, 1 a file invalid (or not JSON), 2 bad usage: a
PATH that does not exist, or a file of no known kind (no schema for its
name, kind and schema_version); nothing is checked then.

Needs Debian's python3 and python3-jsonschema (draft 2020-12), nothing
else: run it with /usr/bin/python3 where another python3 comes first on
PATH.
"""

import argparse
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema.exceptions import best_match
except ImportError:
    sys.stderr.write("validate_reports.py: python3-jsonschema is not installed (make deps)\n")
    sys.exit(2)

EXIT_INVALID = 1
EXIT_USAGE = 2
# A message names the offending value, which can be a whole report.
MESSAGE_MAX_CHARS = 200
INSTANCE_MAX_CHARS = 60
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageError(Exception):
    """A path or file this program cannot check: exit 2."""


def default_schema_dir():
    """schemas/ at the repository root, two levels above this script."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "schemas")


def json_files(path):
    """The *.json files of path (itself, or a folder walked in name order)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise UsageError("%s: no such file or folder" % path)
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        found += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".json")]
    return found


def version_of(doc, default=None):
    """schema_version when it is an integer (not a bool), else default."""
    v = doc.get("schema_version", default) if isinstance(doc, dict) else default
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def schema_name(path, doc):
    """The schema's name for a file, by the table in the docstring; None
    when the file is of no known kind."""
    name = os.path.basename(path)
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    is_object = isinstance(doc, dict)
    if name.endswith(".server.json"):
        kind, version = "server", version_of(doc, 1)
    elif name == "plan.json":
        kind, version = "matrix-plan", version_of(doc)
    elif folder == "points":
        kind, version = "matrix-point", version_of(doc, 1)
    elif name == "soak.json":
        kind, version = "soak", (doc.get("soak") if is_object and isinstance(doc.get("soak"), int)
                                 and not isinstance(doc.get("soak"), bool) else None)
    elif name == "report.json" and is_object and doc.get("kind") == "matrix-report":
        kind, version = "matrix-report", version_of(doc)
    else:
        kind, version = "run-report", version_of(doc)
    return None if version is None else "%s-%d" % (kind, version)


def json_path(error):
    """The error's place in the document, as $.summary.rps or $.points[2]."""
    text = "$"
    for part in error.absolute_path:
        if isinstance(part, int):
            text += "[%d]" % part
        elif IDENTIFIER.match(part):
            text += "." + part
        else:
            text += "[%s]" % json.dumps(part)
    return text


def short(message):
    return message if len(message) <= MESSAGE_MAX_CHARS else message[:MESSAGE_MAX_CHARS] + "..."


def message_of(error):
    """jsonschema's message, without a long value it starts with (a whole
    object, say): the path already says which value."""
    shown = repr(error.instance)
    if len(shown) > INSTANCE_MAX_CHARS and error.message.startswith(shown):
        return "the value" + error.message[len(shown):]
    return short(error.message)


class Schemas:
    """The schemas of one folder, each read and checked once."""

    def __init__(self, folder):
        self.folder = folder
        self.validators = {}

    def exists(self, name):
        return os.path.isfile(self.path(name))

    def path(self, name):
        return os.path.join(self.folder, name + ".schema.json")

    def validator(self, name):
        if name not in self.validators:
            with open(self.path(name), encoding="utf-8") as f:
                schema = json.load(f)
            # A broken schema would fail every file for the wrong reason.
            jsonschema.Draft202012Validator.check_schema(schema)
            self.validators[name] = jsonschema.Draft202012Validator(schema)
        return self.validators[name]


def load(path):
    """(document, None), or (None, why) when the file is not JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, str(e)


def classify(paths, schemas):
    """Every file with its document and schema name (None: not JSON).
    Raises UsageError for a missing path or a file of no known kind."""
    plan = []
    for path in paths:
        for file in json_files(path):
            doc, why = load(file)
            name = None if why is not None else schema_name(file, doc)
            if why is None and (name is None or not schemas.exists(name)):
                raise UsageError("%s: no schema for this file (%s)" % (
                    file, name + ".schema.json missing" if name else "no usable schema_version"))
            plan.append((file, doc, name, why))
    return plan


def check(file, doc, name, why, schemas):
    """None when valid, else the line to print."""
    if why is not None:
        return "%s: $: not JSON: %s" % (file, why)
    validator = schemas.validator(name)
    errors = list(validator.iter_errors(doc))
    if not errors:
        return None
    first = best_match(errors)
    more = " (and %d more)" % (len(errors) - 1) if len(errors) > 1 else ""
    return "%s: %s: %s [%s]%s" % (file, json_path(first), message_of(first), name, more)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="validate_reports.py",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemas", metavar="DIR", default=default_schema_dir(),
                        help="the schema folder (default: the repository's schemas/)")
    parser.add_argument("paths", metavar="PATH", nargs="+", help="a JSON file or a folder")
    return parser.parse_args(argv)  # exits 2 on bad usage, 0 on --help


def main(argv):
    args = parse_args(argv)
    schemas = Schemas(args.schemas)
    try:
        plan = classify(args.paths, schemas)
        lines = [check(*entry, schemas) for entry in plan]
    except UsageError as e:
        sys.stderr.write("validate_reports.py: %s\n" % e)
        return EXIT_USAGE
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write("validate_reports.py: schema in %s: %s\n" % (args.schemas, short(str(e))))
        return EXIT_USAGE
    invalid = [line for line in lines if line is not None]
    for line in invalid:
        print(line)
    if invalid:
        print("%d of %d files invalid" % (len(invalid), len(lines)))
        return EXIT_INVALID
    print("%d files valid" % len(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
