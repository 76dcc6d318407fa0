"""Write (or check) the result keys every object module returns, in each module's RETURN block.

ansible-core reads RETURN from the module file alone: a doc fragment can extend DOCUMENTATION
but not RETURN (ansible/utils/plugin_docs.py add_fragments merges options, attributes, notes and
seealso only). So the keys the six modules share are written here, once, and copied into each
module's RETURN after the keys that are the module's own (``changes`` with its sample, the
external repos' ``urls``), which stay where they are written.

    python3 docs/module_returns.py           rewrite the shared keys in plugins/modules/*.py
    python3 docs/module_returns.py --check   exit 1, with a diff, when a module's RETURN drifted
"""

import argparse
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = ROOT / "plugins" / "modules"

# The keys run_module (plugins/module_utils/koji_module_runner.py) and the plan's writes return
# for every module, in the order they are documented.
SHARED = """\
requests:
  description: Number of HTTP requests the module sent to the hub.
  returned: always
  type: int
  sample: 4
applied:
  description: On a hub refusal, the calls that were made before it.
  returned: failure
  type: list
  elements: dict
refused:
  description: On a hub refusal, the refused calls and the hub's error.
  returned: failure
  type: list
  elements: dict
not_applied:
  description: On a hub refusal, the calls that were not sent.
  returned: failure
  type: list
  elements: dict
errors:
  description: On a validation failure, every problem found (nothing was written).
  returned: failure
  type: list
  elements: str
"""

RETURN_BLOCK = re.compile(r"^RETURN = r'''\n(?P<body>.*?)^'''$", re.M | re.S)
TOP_KEY = re.compile(r"^([a-z_]+):", re.M)


# Modules that only read the hub: they make no writes, so the keys about writes do not apply.
READ_ONLY = ("koji_export.py",)


def modules():
    return sorted(path for path in MODULES.glob("koji_*.py") if path.name not in READ_ONLY)


def blocks(body):
    """The top-level keys of a RETURN body: [(key, text)], in order."""
    starts = [match.start() for match in TOP_KEY.finditer(body)]
    return [(TOP_KEY.match(body, start).group(1), body[start:end])
            for start, end in zip(starts, starts[1:] + [len(body)])]


def render(body):
    """The RETURN body with the module's own keys first, then the shared ones."""
    shared = set(key for key, _text in blocks(SHARED))
    own = "".join(text for key, text in blocks(body) if key not in shared)
    return own + SHARED


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    args = parser.parse_args(argv)

    stale = 0
    for path in modules():
        text = path.read_text(encoding="utf-8")
        match = RETURN_BLOCK.search(text)
        if match is None:
            sys.stderr.write("%s: no RETURN = r'''...''' block\n" % path)
            stale += 1
            continue
        body = match.group("body")
        wanted = render(body)
        if body == wanted:
            continue
        stale += 1
        if args.check:
            name = path.relative_to(ROOT) if ROOT in path.parents else path
            sys.stderr.write("%s: RETURN does not hold the shared keys of docs/module_returns.py; run "
                             "python3 docs/module_returns.py\n" % name)
            sys.stderr.writelines(difflib.unified_diff(body.splitlines(True), wanted.splitlines(True),
                                                       str(name), "docs/module_returns.py"))
            continue
        path.write_text(text[:match.start("body")] + wanted + text[match.end("body"):], encoding="utf-8")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
