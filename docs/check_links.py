"""Check that relative links in docs/**/*.md point at files (and headings) that exist.

    python3 docs/check_links.py [FILE.md ...]     default: every .md file under docs/

Links to other sites, mail addresses and code spans are not checked. A link with an anchor
(`file.md#heading` or `#heading`) must name a heading of that file, slugged as GitHub does.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
# [text](target) and [text](target "title"); images too.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _prose(text):
    """The text without fenced code blocks and code spans."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    heading = re.sub(r"[`*_]", "", heading).strip().lower()
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def anchors(path):
    """Every anchor the headings of a Markdown file give."""
    seen = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else "%s-%d" % (base, count))
    return result


def links(path):
    """The relative link targets of a Markdown file."""
    text = _prose(path.read_text(encoding="utf-8"))
    targets = LINK.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if not EXTERNAL.match(t)]


def broken_links(path):
    """(target, reason) for each relative link of the file that does not resolve."""
    problems = []
    for target in links(path):
        file_part, anchor = (target.split("#", 1) + [""])[:2]
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append((target, "no such file"))
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append((target, "no heading with anchor #%s in %s" % (anchor, dest.name)))
    return problems


def main(argv=None):
    files = [pathlib.Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    files = files or sorted(DOCS.rglob("*.md"))
    failed = False
    for path in files:
        for target, reason in broken_links(path):
            failed = True
            sys.stderr.write("%s: link %s: %s\n" % (path, target, reason))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
