"""make bench's results as one self-contained web page (bench/results.html) beside results.md:
the same text and tables, with the side-by-side chart (results.svg) inline. It reads the
Markdown that run.py writes (headings, paragraphs, lists, tables, `code`, **bold**, the one
image); only inline style and SVG, under a Content-Security-Policy that loads nothing."""
import html
import re

STYLE = ("body{font-family:sans-serif;margin:1.5em auto;max-width:1100px;color:#222}"
         "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
         "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
         "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}code{background:#f3f3f3}")


def inline(text):
    """One line of Markdown's inline marks as HTML: `code`, **bold**; the rest escaped."""
    out = []
    for i, part in enumerate(re.split(r"`([^`]*)`", text)):
        part = html.escape(part)
        out.append(f"<code>{part}</code>" if i % 2 else re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", part))
    return "".join(out)


def table(rows):
    """A Markdown table's lines as an HTML table; ---: columns are numbers, right-aligned."""
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    right = [c.endswith(":") for c in cells[1]] if len(cells) > 1 else []
    num = ' class="n"'
    out = ["<table>", "<tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells[0]) + "</tr>"]
    for row in cells[2:]:
        out.append("<tr>" + "".join(f"<td{num if i < len(right) and right[i] else ''}>{inline(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    return out + ["</table>"]


def items(rows):
    """A Markdown list's lines as an HTML list."""
    return ["<ul>"] + [f"<li>{inline(r[2:])}</li>" for r in rows] + ["</ul>"]


def page(markdown, svg, title="mpechod side by side with other echo servers"):
    """The whole page: markdown's blocks in order, the image replaced by svg inline."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'style-src \'unsafe-inline\'">', f"<title>{html.escape(title)}</title>",
           f"<style>{STYLE}</style></head><body>"]
    lines, i = markdown.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        for mark, block in (("|", table), ("- ", items)):
            if line.startswith(mark):
                j = i
                while j < len(lines) and lines[j].startswith(mark):
                    j += 1
                out += block(lines[i:j])
                i = j
                break
        else:
            out.append(single(line, svg))
            i += 1
    return "\n".join(out + ["</body></html>", ""])


def single(line, svg):
    """A line that is a block of its own: the image (svg inline), a heading, a paragraph."""
    if line.startswith("!["):
        return svg[svg.index("<svg"):] if "<svg" in svg else ""
    if line.startswith("#"):
        level = len(line) - len(line.lstrip("#"))
        return f"<h{level}>{inline(line[level:].strip())}</h{level}>"
    return f"<p>{inline(line)}</p>" if line.strip() else ""
