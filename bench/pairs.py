"""make bench's pairs: the loop model and the epoll ceiling, one load on each back to back.

The table's rounds run every load on one server before the next server starts, so the loop
model and the epoll ceiling meet again about two minutes later. On this shared machine the
load from elsewhere changes in that time: in one run the loop's pingpong 16 rounds ranged
from 119,432 to 267,376 messages a second. A ratio of two medians taken that far apart
measures the machine as much as the servers. Here each pair runs one load on one server,
then the same load on the other at once; the order alternates from pair to pair. The ratio
is taken within each pair, and issue 23's targets (1.0x the ceiling) are judged on the
median of those ratios.
"""
import statistics

import cost

PAIRS = 8


def pairs_test(running, servers, measures, run_bench, seconds, tmp, log, pairs=PAIRS):
    """servers: ((name, make), (name, make)), the one judged first; measures: run.py's rows to
    pair. {key: {"ratios": [...], "mine": [...], "theirs": [...], "mine_cpu": [...],
    "theirs_cpu": [...], "failed": n}}: a pair where either run failed gives no ratio."""
    out = {}
    for key, title, args, field, _ in measures:
        cell = out[key] = {"ratios": [], "mine": [], "theirs": [], "mine_cpu": [], "theirs_cpu": [],
                           "failed": 0}
        for i in range(pairs):
            got = {}
            for name, make in (servers if i % 2 == 0 else servers[::-1]):
                srv = running(name, make, tmp)
                try:
                    r = run_bench(args, srv, seconds)
                finally:
                    srv.stop()
                if r.get("status") == 0 and r.get(field):
                    got[name] = (r[field], cost.per_unit(r, args[-1])[0])
            if len(got) < 2:
                cell["failed"] += 1
                continue
            (mine, mine_cpu), (theirs, theirs_cpu) = got[servers[0][0]], got[servers[1][0]]
            cell["ratios"].append(mine / theirs)
            cell["mine"].append(mine)
            cell["theirs"].append(theirs)
            if mine_cpu and theirs_cpu:
                cell["mine_cpu"].append(mine_cpu)
                cell["theirs_cpu"].append(theirs_cpu)
            log(f"pairs: {title:22} pair {i + 1}: {mine / theirs:.2f}x ({mine:,.0f} against {theirs:,.0f})")
    return out


def ratio(pairs, key):
    """The median of the pairs' ratios for key, or None (not run, or no pair passed)."""
    cell = (pairs or {}).get(key)
    return statistics.median(cell["ratios"]) if cell and cell["ratios"] else None


def report(pairs, names, measures, want):
    """The section's lines: per load, the pairs that passed, both medians, the median ratio and
    its range, and the CPU per unit of each (medians over the same pairs)."""
    if not pairs:
        return []
    mine, theirs = names
    lines = ["", f"## {mine} against the {theirs}, pair by pair", "",
             f"Each pair runs one load on {mine}, then at once on the {theirs} (or the other way "
             "round: the order alternates), so that both meet the machine as it is; the ratio is "
             f"taken within the pair. The table above compares medians taken minutes apart. Target: "
             f"{want}x or better, judged on the median of the pairs' ratios.", "",
             "| load | pairs | " + f"{mine} | {theirs} | ratio (median; range) | CPU per unit, "
             f"{mine} / {theirs} |", "|---|---:|---:|---:|---:|---:|"]
    for key, title, args, _, unit in measures:
        cell = pairs.get(key)
        if not cell:
            continue
        n = len(cell["ratios"])
        if not n:
            lines.append(f"| {title} | 0 of {cell['failed']} | - | - | - | - |")
            continue
        cpu_unit = cost.UNITS[args[-1]][0]
        cpu = (f"{cost.fmt(statistics.median(cell['mine_cpu']))} / "
               f"{cost.fmt(statistics.median(cell['theirs_cpu']))} {cpu_unit}" if cell["mine_cpu"] else "-")
        r = statistics.median(cell["ratios"])
        lines.append(f"| {title} | {n} of {n + cell['failed']} | {statistics.median(cell['mine']):,.0f} "
                     f"{unit} | {statistics.median(cell['theirs']):,.0f} | **{r:.2f}x** "
                     f"({min(cell['ratios']):.2f}-{max(cell['ratios']):.2f}x; "
                     f"{'met' if r >= want else 'NOT met'}) | {cpu} |")
    return lines
