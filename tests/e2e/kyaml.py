"""The YAML that kubectl kustomize prints, read into Python objects (standard library only).

Not YAML at large: block maps and lists indented as kubectl writes them, and scalars
plain, single- or double-quoted. Anything else (flow style, anchors, block scalars) is an
error here, never a silent misreading; the tests see at once if kubectl's output changes.
podman kube play reads JSON too (JSON is YAML), so a test can change a manifest as data
and hand it back with dump().
"""
import json
import re


def load_all(text):
    """Every document of a rendered manifest, as dicts."""
    docs = []
    for part in re.split(r"^---$", text, flags=re.M):
        lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in part.split("\n")
                 if l.strip() and not l.lstrip().startswith("#")]
        if lines:
            value, i = _block(lines, 0, lines[0][0])
            if i != len(lines):
                raise ValueError(f"unread YAML from line {i}: {lines[i]}")
            docs.append(value)
    return docs


def dump(docs):
    """Documents podman kube play takes: JSON, one a document."""
    return "\n---\n".join(json.dumps(d, indent=1) for d in docs) + "\n"


def _block(lines, i, indent):
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        return _list(lines, i, indent)
    return _map(lines, i, indent)


def _list(lines, i, indent):
    out = []
    while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
        rest = lines[i][1][1:].lstrip(" ")
        if not rest:
            value, i = _block(lines, i + 1, lines[i + 1][0])
        elif re.match(r"^[^\"'][^:]*:( |$)|^\"[^\"]*\":( |$)", rest):
            lines[i] = (indent + 2, rest)  # "- key: value" opens a map one level in
            value, i = _map(lines, i, indent + 2)
        else:
            value, i = _scalar(rest), i + 1
        out.append(value)
    return out, i


def _map(lines, i, indent):
    out = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        m = re.match(r'^("(?:[^"\\]|\\.)*"|[^:]+):(?: (.*))?$', lines[i][1])
        if not m:
            raise ValueError(f"not a key: {lines[i][1]!r}")
        key = _scalar(m.group(1)) if m.group(1).startswith('"') else m.group(1)
        i += 1
        if m.group(2) is not None:
            out[key] = _scalar(m.group(2))
        elif i < len(lines) and (lines[i][0] > indent or
                                 (lines[i][0] == indent and lines[i][1].startswith("-"))):
            out[key], i = _block(lines, i, lines[i][0])
        else:
            out[key] = None
    return out, i


def _scalar(text):
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text[0] in "{[&*!|>%@`":
        if text in ("{}", "[]"):
            return {} if text == "{}" else []
        raise ValueError(f"YAML this reader does not take: {text!r}")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text
