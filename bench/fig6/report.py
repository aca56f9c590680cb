#!/usr/bin/env python3
"""bench/fig6/report.py LOG OUTDIR: turns the FIG6 lines of a 51-fig6 run into fig6.csv (one
row per VM), fig6.svg (per-VM throughput bars with the mean, aggregate and Jain's index in the
title) and fig6.md (the summary and the checks). Standard library only."""
import os
import re
import sys


def main():
    log, outdir = sys.argv[1], sys.argv[2]
    text = open(log, errors="replace").read()
    rows = [
        (int(m[1]), int(m[2]), int(m[3]), float(m[4]))
        for m in re.finditer(r"^FIG6 vm (\d+) domid (\d+) packets (\d+) pps ([\d.]+)", text, re.M)
    ]
    summ = re.search(r"^FIG6-SUMMARY (.*)$", text, re.M)
    if not rows or not summ:
        print("report.py: no FIG6 lines in", log, file=sys.stderr)
        return 1
    s = dict(zip(summ[1].split()[0::2], summ[1].split()[1::2]))
    # The offered load (run.sh passes its RATE; the scenario's lines do not carry it).
    rate = os.environ.get("FIG6_RATE")
    if rate:
        s = {"offered_pps_per_vm": rate, **s}
    with open(f"{outdir}/fig6.csv", "w") as f:
        f.write("vm,domid,packets,pps\n")
        for r in rows:
            f.write(f"{r[0]},{r[1]},{r[2]},{r[3]:.1f}\n")
    # SVG: one bar per VM.
    w, h, left, bottom, top = 900, 360, 60, 40, 50
    n = len(rows)
    peak = max(r[3] for r in rows) or 1.0
    ymax = peak * 1.15
    bw = (w - left - 20) / n
    mean = sum(r[3] for r in rows) / n
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="14">ClickOS-rs Figure 6: {s["vms"]} VMs through clickos-switchd (fast path), Xen in QEMU TCG</text>',
        f'<text x="{w / 2}" y="36" text-anchor="middle">aggregate {float(s["aggregate_pps"]):.0f} pkt/s over {s["window_s"]} s; per VM min {s["min_pps"]} max {s["max_pps"]} mean {mean:.1f}; Jain {s["jain"]}</text>',
    ]
    y0 = h - bottom
    for k in range(5):
        v = ymax * k / 4
        y = y0 - (y0 - top) * k / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - 20}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    for i, r in enumerate(rows):
        bh = (y0 - top) * r[3] / ymax
        out.append(
            f'<rect x="{left + i * bw:.2f}" y="{y0 - bh:.2f}" width="{max(bw - 1, 0.5):.2f}" height="{bh:.2f}" fill="#4a7ab5"><title>VM {r[0]} (domid {r[1]}): {r[3]} pkt/s</title></rect>'
        )
    ym = y0 - (y0 - top) * mean / ymax
    out.append(f'<line x1="{left}" y1="{ym:.1f}" x2="{w - 20}" y2="{ym:.1f}" stroke="#c33" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{left}" y="{h - 8}">VM 1 .. {n}</text>')
    out.append(f'<text x="14" y="{(top + y0) / 2}" transform="rotate(-90 14 {(top + y0) / 2})" text-anchor="middle">packets/s per VM</text>')
    out.append("</svg>")
    open(f"{outdir}/fig6.svg", "w").write("\n".join(out) + "\n")
    checks = re.findall(r"^CHECK (PASS|FAIL) (fig6: .*)$", text, re.M)
    results = re.findall(r"^RESULT fig6 (.*)$", text, re.M)
    with open(f"{outdir}/fig6.md", "w") as f:
        f.write(f"# Figure 6 on the Xen test host ({s['vms']} VMs)\n\n")
        f.write("`make bench-fig6` (`bench/fig6/run.sh`, scenario `images/scenarios/51-fig6.sh`): every VM runs\n")
        f.write("`RatedSource(LENGTH 60, RATE R) -> EtherEncap -> ToNetfront(0)` on the fast path; per-VM rates are\n")
        f.write("the switch's per-port counters over the window. Xen 4.17 in QEMU TCG on 2 cores: absolute numbers are\n")
        f.write("emulation numbers; scale, fairness and loss are the point.\n\n")
        f.write("| | |\n|---|---|\n")
        for k, v in s.items():
            f.write(f"| {k} | {v} |\n")
        for r in results:
            f.write(f"| result | {r} |\n")
        f.write("\n")
        for c in checks:
            f.write(f"- {c[0]} {c[1]}\n")
        f.write("\nPer VM: [fig6.csv](fig6.csv); plot: [fig6.svg](fig6.svg).\n")
    print(f"report.py: {n} VMs -> {outdir}/fig6.csv, fig6.svg, fig6.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
