"""The shape of the source tree, kept by a test: small functions, small files, a map line each.

The house style puts a function's name, its opening brace and its closing brace in column 0,
so a function is the lines from its name to the next "}" line.
"""
import os
import re

from harness import check

ONCE = True  # about the tree, not a build

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_FUNCTION_LINES = 50
MAX_FILE_LINES = 500


def sources():
    for folder, _, names in os.walk(os.path.join(ROOT, "src")):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                yield os.path.join(folder, name)


def functions(path):
    """(name, lines) of every function defined in a C file, from its name to its closing brace."""
    lines = open(path).read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if line != "{":
            continue
        start = i - 1
        while start > 0 and not re.match(r"\w+\(", lines[start]):
            start -= 1
        name = re.match(r"(\w+)\(", lines[start])
        out.append((name.group(1) if name else f"line {i + 1}", lines.index("}", i) - start + 1))
    return out


def test_no_function_over_50_lines():
    long = [f"{os.path.relpath(p, ROOT)}: {name} ({n} lines)"
            for p in sources() if p.endswith(".c") for name, n in functions(p)
            if n > MAX_FUNCTION_LINES]
    check(not long, "functions over %d lines:\n  %s" % (MAX_FUNCTION_LINES, "\n  ".join(long)))


def test_no_source_file_over_500_lines():
    big = [f"{os.path.relpath(p, ROOT)} ({n} lines)" for p in sources()
           for n in [len(open(p).read().split("\n")) - 1] if n > MAX_FILE_LINES]
    check(not big, f"files over {MAX_FILE_LINES} lines: {big}")


def test_every_file_opens_with_what_it_is_for():
    bad = []
    for p in sources():
        first = open(p).readline()
        if not re.match(r"/\*( \w[\w.-]*:|$)", first):
            bad.append(f"{os.path.relpath(p, ROOT)}: {first.strip()!r}")
    check(not bad, "files without an opening 'name: what it is for' comment:\n  " + "\n  ".join(bad))


def test_no_function_takes_another_modules_prefix():
    """A function named log_* lives in log.c: a module never defines names with another's prefix."""
    folders = {}
    for p in sources():
        if p.endswith(".c"):
            folders.setdefault(os.path.dirname(p), []).append(p)
    lib = folders.get(os.path.join(ROOT, "src", "lib"), [])
    bad = []
    for folder, files in folders.items():
        stems = {os.path.basename(p)[:-2] for p in files + lib}
        for p in files:
            own = os.path.basename(p)[:-2]
            for name, _ in functions(p):
                for other in stems - {own}:
                    if name.startswith(other + "_") and not own.startswith(other):
                        bad.append(f"{os.path.relpath(p, ROOT)}: {name} (the prefix of {other}.c)")
    check(not bad, "functions named after another module:\n  " + "\n  ".join(bad))


def test_readme_map_names_every_file_and_only_real_ones():
    import fnmatch
    text = open(os.path.join(ROOT, "README.md")).read()
    block = text[text.index("## How it is built"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    named = set(re.findall(r"[\w*-]+\.[ch]\b", block))
    real = {os.path.basename(p) for p in sources()}
    missing = [n for n in named if not fnmatch.filter(real, n)]
    check(not missing, f"README names files that do not exist: {missing}")
    words = set(re.findall(r"[\w-]+", block))
    unmapped = [os.path.relpath(p, ROOT) for p in sources() if p.endswith(".c")
                and not any(fnmatch.fnmatch(os.path.basename(p), n) for n in named)
                and os.path.basename(p)[:-2] not in words]
    check(not unmapped, f"source files the README's map does not show: {unmapped}")


def model_tuples(path):
    """(line, strings) of every outermost tuple or list in a test module that names models
    fork and prefork, with the strings it holds at any depth."""
    import ast
    out, inner = [], set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, (ast.Tuple, ast.List)) and id(node) not in inner:
            inner |= {id(n) for n in ast.walk(node) if n is not node}
            strings = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
            if {"fork", "prefork"} <= strings:
                out.append((node.lineno, strings))
    return out


def test_every_test_over_the_models_runs_the_loop_or_says_why():
    """Issue 23: a test parametrised over the models runs on the loop too, or its line says
    '# not loop: REASON' (an option the loop refuses, a process per session)."""
    e2e = os.path.join(ROOT, "tests", "e2e")
    bad = []
    for name in sorted(os.listdir(e2e)):
        if not name.endswith(".py"):
            continue
        lines = open(os.path.join(e2e, name)).read().split("\n")
        for lineno, strings in model_tuples(os.path.join(e2e, name)):
            said = re.search(r"# not loop: \w", lines[lineno - 1])
            if "loop" not in strings and not said:
                bad.append(f"tests/e2e/{name}:{lineno}: {lines[lineno - 1].strip()}")
    check(not bad, "tests over fork and prefork that leave the loop out without a reason:\n  "
          + "\n  ".join(bad))
