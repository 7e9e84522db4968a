#!/usr/bin/env python3
"""make bench: landing -> bronze throughput and peak RSS of the real binary.

For each scale (impressions per day) it generates landing data once (outside
the repo, under $ADLAKE_BENCH_DIR, default /tmp/adlake-bench), then for each
feed and each core count (GOMAXPROCS=1 and 2, taskset-pinned) ingests it
into a fresh catalog and warehouse, timing with /usr/bin/time -v. Results go
to docs/benchmarks.md (the machine is described there) and stdout.
"""
import json, os, platform, re, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bin", "adlake")
WORK = os.environ.get("ADLAKE_BENCH_DIR", "/tmp/adlake-bench")
WORK_GO = ROOT  # go run needs the module; DuckDB's temp files go to ./.tmp (ignored by git)
SCALES = [int(x) for x in os.environ.get("BENCH_SCALES", "1000000,2000000").split(",")]
# BIG: impressions only, both cores: does peak RSS stay flat at 10x the input?
BIG = int(os.environ.get("BENCH_BIG", "10000000"))
FEEDS = ["impressions", "clicks_conversions", "bid_requests"]
# GOLD: impressions/day of the attribution benchmark (gold vs DuckDB SQL on the same silver files).
GOLD = int(os.environ.get("BENCH_GOLD", "10000000"))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def landing_bytes(landing, feed):
    total = 0
    for dirpath, _, files in os.walk(os.path.join(landing, feed)):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total


def generate(scale):
    d = os.path.join(WORK, f"landing-{scale}")
    mf = d + ".manifest.json"
    if not os.path.exists(mf):
        shutil.rmtree(d, ignore_errors=True)
        t = time.time()
        sh([BIN, "gen", "--landing", d, "--days", "1", "--impressions-per-day", str(scale), "--manifest", mf, "--log-level", "warn"])
        print(f"generated {scale} impressions in {time.time()-t:.1f}s", file=sys.stderr)
    return d, json.load(open(mf))


def ingest(landing, feed, cores):
    lake = os.path.join(WORK, "lake")
    shutil.rmtree(lake, ignore_errors=True)
    env = dict(os.environ, GOMAXPROCS=str(cores))
    cpus = ",".join(str(i) for i in range(cores))
    cmd = ["taskset", "-c", cpus, "/usr/bin/time", "-v", BIN, "ingest", "--feed", feed, "--json",
           "--landing", landing, "--warehouse", os.path.join(lake, "warehouse"),
           "--catalog", os.path.join(lake, "catalog.db"), "--log-level", "warn"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode not in (0, 3):
        raise SystemExit(f"ingest failed ({p.returncode}): {p.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    summary = json.loads(p.stdout)["feeds"][0]
    return wall, rss_kb, summary


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    go = sh(["go", "version"]).stdout.strip()
    return f"{os.cpu_count()} x {cpu}, {int(mem)//1024//1024} GiB RAM, Linux {platform.release()}, {go}"


def main():
    os.makedirs(WORK, exist_ok=True)
    rows = []
    for scale in SCALES:
        landing, manifest = generate(scale)
        for feed in FEEDS:
            size = landing_bytes(landing, feed)
            for cores in (1, 2):
                wall, rss, s = ingest(landing, feed, cores)
                rows.append(dict(scale=scale, feed=feed, cores=cores, rows=s["rows"], files=s["files"],
                                 mb=size / 1e6, wall=wall, rss_mib=rss / 1024))
                r = rows[-1]
                print(f"{scale:>8} {feed:<19} {cores} core(s): {r['rows']:>9} rows {r['rows']/wall:>10,.0f} rows/s "
                      f"{r['mb']/wall:>7.1f} MB/s  peak RSS {r['rss_mib']:.0f} MiB  ({wall:.2f}s)")
    if BIG:
        landing, _ = generate(BIG)
        wall, rss, s = ingest(landing, "impressions", 2)
        rows.append(dict(scale=BIG, feed="impressions", cores=2, rows=s["rows"], files=s["files"],
                         mb=landing_bytes(landing, "impressions") / 1e6, wall=wall, rss_mib=rss / 1024))
        print(f"{BIG:>8} impressions 2 core(s): {s['rows']/wall:,.0f} rows/s peak RSS {rss/1024:.0f} MiB ({wall:.1f}s)")
    gold = gold_bench() if GOLD else None
    write_doc(rows, profile(os.path.join(WORK, f"landing-{max(SCALES)}")), gold)


def gold_bench():
    """bench/gold: attribution of one day by gold (default 512 MiB budget) and by DuckDB's ASOF SQL,
    each in its own process (peak RSS = its VmHWM), on the same silver Parquet files."""
    lake = os.path.join(WORK, f"gold-{GOLD}")
    out = sh(["go", "run", "./bench/gold", "-dir", lake, "-impressions", str(GOLD), "-engines", "gold,duckdb-asof"],
             cwd=WORK_GO).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    print("gold:", json.dumps(summary))
    return summary


def profile(landing):
    """CPU profile of the largest impressions ingest on 2 cores: where the time goes."""
    lake = os.path.join(WORK, "lake")
    shutil.rmtree(lake, ignore_errors=True)
    prof = os.path.join(WORK, "impressions.prof")
    sh([BIN, "ingest", "--feed", "impressions", "--cpuprofile", prof, "--landing", landing,
        "--warehouse", os.path.join(lake, "warehouse"), "--catalog", os.path.join(lake, "catalog.db"), "--log-level", "warn"])
    top = sh(["go", "tool", "pprof", "-top", "-nodecount=25", BIN, prof]).stdout
    return "\n".join(l for l in top.splitlines() if not l.startswith(("File:", "Build ID:", "Type:", "Time:")))


def gold_lines(g):
    out = ["", f"## Gold attribution ({GOLD:,} impressions/day, one day, 2 cores)", "",
           "`go run ./bench/gold`: `gold.Attribute` (the sort-merge join of docs/gold.md with the default",
           "512 MiB budget) against DuckDB 1.5.6 running the same rules as ASOF joins over the same silver",
           "Parquet files; each engine in its own process, peak RSS is its VmHWM.", "",
           "| engine | seconds | peak RSS MiB | conversions | spill files | spill MiB |", "|---|---:|---:|---:|---:|---:|"]
    for name in ("gold", "duckdb-asof"):
        r = g.get(name)
        if r:
            out.append(f"| {name} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | {r['rows']:,} | "
                       f"{r.get('spill_files', 0)} | {r.get('spill_mib', 0):.0f} |")
    if "ratio_to_fastest_duckdb" in g:
        out += ["", f"gold / DuckDB time: {g['ratio_to_fastest_duckdb']:.2f}x; same attribution counts: {g['same_counts']}"]
    return out


def write_doc(rows, top, gold=None):
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (bench/bench.py); do not edit by hand.",
        "",
        f"- Machine: {machine()}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "- What: `adlake ingest --feed F`, landing -> bronze -> silver in one run (decode, bronze Iceberg",
        "  table, then validation, standardization, enrichment, pseudonymization, dedup and the silver",
        "  tables; zstd Parquet, embedded SQLite catalog, local folders), one day of `adlake gen` data (no",
        "  defects), into a fresh lake; wall time and peak RSS of the whole process from `/usr/bin/time -v`;",
        "  cores pinned with `taskset` and `GOMAXPROCS`. rows/s counts landing records.",
        "- MB/s counts landing bytes as stored (impressions are half gzipped, clicks a third gzipped, Avro",
        "  blocks compressed with null/deflate/snappy/zstandard in rotation).",
        "",
        "| impressions/day | feed | cores | files | rows | seconds | rows/s | MB/s | peak RSS MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(f"| {r['scale']:,} | {r['feed']} | {r['cores']} | {r['files']} | {r['rows']:,} | {r['wall']:.2f} | "
                   f"{r['rows']/r['wall']:,.0f} | {r['mb']/r['wall']:.1f} | {r['rss_mib']:.0f} |")
    out += ["", f"## Where the time goes (impressions, {max(SCALES):,}/day, 2 cores, `go tool pprof -top`)", "",
            "```", top.strip(), "```"]
    if gold:
        out += gold_lines(gold)
    notes = os.path.join(ROOT, "bench", "notes.md")
    if os.path.exists(notes):
        out += ["", open(notes).read().strip()]
    open(os.path.join(ROOT, "docs", "benchmarks.md"), "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
