"""make bench's speed targets (issues 14 and 23): each mpechod build against Node.js, the epoll ceiling
and the fork floor measured in the same run, judged on the medians of the rounds, or for the loop
model against the ceiling on the median ratio of back-to-back pairs (pairs.py)."""
import statistics

# (what, server, measure, compared with, at least this ratio); "p99" compares connrate latency,
# where mpechod's must be at most the other's.
TARGETS = [
    ("connrate 16 x 64 B", "fork", "connrate", "node", 0.8),
    ("connrate 16 x 64 B", "fork", "connrate", "fork floor", 1.2),
    ("connrate 256 x 64 B", "fork", "connrate256", "node", 0.8),
    ("pingpong 16 x 64 B", "fork", "pingpong", "node", 0.9),
    ("pingpong 256 x 64 B", "fork", "pingpong256", "node", 0.9),
    ("p99 connrate 16 x 64 B latency", "fork", "p99", "node", None),
    ("connrate 16 x 64 B", "prefork", "connrate", "epoll ceiling", 0.9),
    ("connrate 256 x 64 B", "prefork", "connrate256", "epoll ceiling", 0.9),
    ("pingpong 16 x 64 B", "prefork", "pingpong", "node", 0.9),
    ("pingpong 256 x 64 B", "prefork", "pingpong256", "node", 0.9),
    ("p99 connrate 16 x 64 B latency", "prefork", "p99", "node", None),
    ("connrate 16 x 64 B", "loop", "connrate", "epoll ceiling", 1.0),   # issue 23
    ("connrate 256 x 64 B", "loop", "connrate256", "epoll ceiling", 1.0),
    ("pingpong 16 x 64 B", "loop", "pingpong", "epoll ceiling", 1.0),
    ("pingpong 256 x 64 B", "loop", "pingpong256", "epoll ceiling", 1.0),
]


def p99(data, name):
    """The median p99 of the rounds that passed (only those hold latency), 0.0 if none did."""
    vals = [x["p99"] for x in data[name]["connrate"]["latency"]]
    return statistics.median(vals) if vals else 0.0


def report(med, data, builds, paired=None):
    """Lines of the targets table; builds maps a model ("fork") to the rows that run it; paired
    maps (model, measure) to the median ratio of pairs.py's back-to-back pairs, which judges that
    target where the run has it (the table's ratio of medians is shown beside it)."""
    lines = ["", "## Targets (issues 14 and 23: ratios in this run, medians of the rounds)", "",
             "| server | measure | against | target | this run |", "|---|---|---|---:|---|"]
    for what, model, key, other, want in TARGETS:
        for name in (n for n in builds[model] if n in data):   # an older run may lack a model
            if key == "p99":
                mine, theirs = p99(data, name), p99(data, other)
                if not theirs:
                    lines.append(f"| {name} | {what} | {other} | - | not judged: {other} failed "
                                 "every round |")
                    continue
                ok = 0 < mine <= theirs
                lines.append(f"| {name} | {what} | {other} | <= {theirs:,.0f} us | "
                             f"{mine:,.0f} us {'met' if ok else 'NOT met'} |")
                continue
            base, mine = med[(other, key)], med[(name, key)]
            if not base:
                lines.append(f"| {name} | {what} | {other} | >= {want}x | not judged: "
                             f"{other} failed every round |")
                continue
            r = mine / base if mine is not None else None
            by_pairs = (paired or {}).get((model, key))
            if by_pairs is not None:
                lines.append(f"| {name} | {what} | {other}, pair by pair | >= {want}x | {by_pairs:.2f}x "
                             f"{'met' if by_pairs >= want else 'NOT met'} (the table's medians: "
                             + (f"{r:.2f}x) |" if r is not None else "failed every round) |"))
                continue
            lines.append(f"| {name} | {what} | {other} | >= {want}x | " +
                         (f"{r:.2f}x {'met' if r >= want else 'NOT met'} |" if r is not None
                          else "NOT met: failed every round |"))
    return lines
