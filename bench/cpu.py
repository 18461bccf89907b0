"""Where a run's CPU time went, without perf: the server's user and kernel time from
/proc/PID/stat (its process group, with the children it has reaped), the client's from its
rusage once it is reaped, and the whole machine's from /proc/stat. All of it over the client's
whole run (warm-up and drain included), in CPUs: 1.0 is one CPU busy all along.

What the machine ran, read once per run: its CPUs and net.core.somaxconn.
"""
import os
import resource
import statistics
import time

TICK = os.sysconf("SC_CLK_TCK")
SOURCES = ("the server's user and system time from /proc/PID/stat, the client's from its rusage, "
           "the machine's from /proc/stat")


def machine():
    """The figures the prose of results.md names: os.cpu_count() and somaxconn (None: unreadable)."""
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            somaxconn = int(f.read())
    except (OSError, ValueError):
        somaxconn = None
    return {"cpus": os.cpu_count(), "somaxconn": somaxconn}


def group_members(pgid):
    """(pid, fields of /proc/PID/stat after the name) of each process of group pgid."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(") ", 1)[1].split()
            if int(fields[2]) == pgid:   # fields[0] is field 3 of proc(5): state
                yield entry, fields
        except (OSError, IndexError, ValueError):
            continue


def group_ticks(pgid):
    """(user, system) clock ticks used so far by the processes of group pgid, and by the
    children they have reaped (a child reaped between two readings moves into its parent's
    cutime and cstime: counted once either way)."""
    user = system = 0
    for _, fields in group_members(pgid):
        user += int(fields[11]) + int(fields[13])     # utime, cutime
        system += int(fields[12]) + int(fields[14])   # stime, cstime
    return user, system


def machine_ticks():
    """/proc/stat's first line: clock ticks of all CPUs by kind."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return {"user": v[0] + v[1], "system": v[2], "idle": v[3] + v[4], "irq": v[5], "softirq": v[6],
            "steal": v[7] if len(v) > 7 else 0}


class Split:
    """A CPU split around one client run against the server in process group pgid: start it,
    run the client to its end (reaped), then end() gives the figures."""

    def __init__(self, pgid):
        self.pgid = pgid
        self.t0 = time.monotonic()
        self.server0 = group_ticks(pgid)
        self.client0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.machine0 = machine_ticks()

    def end(self):
        wall = max(time.monotonic() - self.t0, 1e-3)
        su, ss = group_ticks(self.pgid)
        client = resource.getrusage(resource.RUSAGE_CHILDREN)
        m = machine_ticks()
        d = {k: m[k] - self.machine0[k] for k in m}
        total = max(sum(d.values()), 1)
        return {"seconds": wall,
                "server_user": (su - self.server0[0]) / TICK / wall,
                "server_system": (ss - self.server0[1]) / TICK / wall,
                "client_user": (client.ru_utime - self.client0.ru_utime) / wall,
                "client_system": (client.ru_stime - self.client0.ru_stime) / wall,
                "machine_busy": 1 - d["idle"] / total,       # a share of all CPUs
                "machine_softirq": d["softirq"] / total}


def median_split(splits):
    """The median of each figure over the rounds' splits (None: no round measured)."""
    splits = [s for s in splits if s]
    if not splits:
        return None
    return {k: statistics.median(s[k] for s in splits) for k in splits[0]}


def describe(split, server, cpus):
    """One sentence of what the split shows, every figure from it."""
    busy = split["server_user"] + split["server_system"]
    kernel = split["server_system"] / busy if busy else 0
    client = split["client_user"] + split["client_system"]
    text = (f"{server} used {busy:.2f} CPUs, {kernel:.0%} of it in the kernel (system time) "
            f"and {1 - kernel:.0%} in user space (its own code and its libraries); the client used "
            f"{client:.2f} CPUs; the machine's {cpus} CPUs were {split['machine_busy']:.0%} "
            f"busy ({split['machine_softirq']:.0%} in softirq: the network stack outside any "
            "process)")
    if split["machine_busy"] >= 0.9:
        text += ". The CPUs were saturated (by all the machine ran): client and server competed for them"
    elif busy < 0.9:
        text += ". The server was not CPU-bound: it waited for work"
    return text + "."
