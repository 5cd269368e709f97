#!/usr/bin/env python3
"""Turns proto/PROTOCOL.md into the man page tapestream-protocol(7), at build time, so that the
page cannot drift from the specification.

It knows the Markdown that PROTOCOL.md uses and nothing more: ATX headings, paragraphs, pipe
tables (rendered with tbl), "- " lists and `code` spans. Anything else (a fenced block, a link,
emphasis) makes it fail loudly rather than print Markdown into a man page.

    md2man.py PROTOCOL.md OUTPUT VERSION DATE
"""
import re
import sys

NAME = "tapestream\\-protocol \\- the socket protocol of tapestreamd(8) and its clients"
SEE_ALSO = ".BR tapestreamd (8),\n.BR tapestream (1),\n.BR unix (7)"


def escape(text):
    """Roff text from Markdown text: backslashes and hyphens escaped, `code` in bold."""
    if re.search(r"```|\]\(|(?<![\w*])\*\w|\*\*", text):
        raise ValueError(f"unsupported Markdown: {text!r}")
    out = []
    for i, part in enumerate(text.split("`")):
        part = part.replace("\\", "\\e").replace("-", "\\-")
        out.append(f"\\fB{part}\\fR" if i % 2 == 1 else part)
    if text.count("`") % 2 != 0:
        raise ValueError(f"unbalanced code span: {text!r}")
    return "".join(out)


def line(text):
    """A text line that roff cannot take for a request."""
    text = escape(text.strip())
    return "\\&" + text if text.startswith((".", "'")) else text


def table_cells(row):
    row = row.strip()
    if not (row.startswith("|") and row.endswith("|")):
        raise ValueError(f"table row not enclosed in pipes: {row!r}")
    return [c.strip() for c in row[1:-1].split("|")]


def table(rows):
    header = table_cells(rows[0])
    if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rows[1].strip()):
        raise ValueError(f"table without a separator row: {rows[1]!r}")
    body = [table_cells(r) for r in rows[2:]]
    n = len(header)
    for cells in body:
        if len(cells) != n:
            raise ValueError(f"table row with {len(cells)} cells, header has {n}: {cells}")
    # Columns with long entries share the width that is left (tbl's "x") and wrap, ragged
    # right (.na: a narrow justified column cannot be adjusted); the others are as wide as
    # their longest entry and never wrap.
    rows_all = [header] + body
    longest = [max(len(cells[c]) for cells in rows_all) for c in range(n)]
    wide = {c for c in range(n) if longest[c] > 24} or {max(range(n), key=lambda c: longest[c])}
    out = [".TS", "tab(\t);", " ".join("lbx" if c in wide else "lb" for c in range(n)),
           " ".join("lx" if c in wide else "l" for c in range(n)) + "."]

    def cell(c, text):
        text = line(text) if text else "\\&"
        return "T{\n.na\n" + text + "\nT}" if c in wide else text

    for cells in [header] + body:
        out.append("\t".join(cell(c, t) for c, t in enumerate(cells)))
    out.append(".TE")
    return out


def convert(markdown, version, date):
    out = ["'\\\" t", ".\\\" Generated from proto/PROTOCOL.md by man/md2man.py: edit those instead.",
           f'.TH TAPESTREAM\\-PROTOCOL 7 {date} "tapestream {version}" "tapestream"',
           ".SH NAME", NAME, ".SH DESCRIPTION"]
    lines = markdown.splitlines()
    i = 0
    paragraph_open = False
    while i < len(lines):
        text = lines[i]
        if not text.strip():
            paragraph_open = False
            i += 1
            continue
        heading = re.match(r"(#+)\s+(.*)", text)
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip()
            if level == 2:
                out.append(".SH " + escape(title.upper()))
            elif level >= 3:
                out.append('.SS "' + escape(title) + '"')
            # The document's own title (level 1) is the NAME line's job.
            paragraph_open = False
            i += 1
            continue
        if text.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out.extend(table(rows))
            paragraph_open = False
            continue
        item = re.match(r"\s*[-*]\s+(.*)", text)
        if item:
            out.append(".IP \\(bu 2")
            out.append(line(item.group(1)))
            paragraph_open = True
            i += 1
            continue
        if text.startswith("    ") and not paragraph_open:
            raise ValueError(f"unsupported indented block: {text!r}")
        if not paragraph_open:
            out.append(".PP")
            paragraph_open = True
        out.append(line(text))
        i += 1
    out += [".SH SEE ALSO", SEE_ALSO]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 64
    source, output, version, date = argv[1:]
    with open(source, encoding="utf-8") as f:
        markdown = f.read()
    try:
        roff = convert(markdown, version, date)
    except ValueError as e:
        print(f"md2man.py: {source}: {e}", file=sys.stderr)
        return 1
    with open(output, "w", encoding="utf-8") as f:
        f.write(roff)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
