//! `xen-plots DIR`: turns the CSVs of the Xen benchmarks (bench/xen/run.sh) in DIR into SVG
//! plots and a markdown summary (`xen-boot.md`). A tiny SVG writer, no plotting dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A CSV file with a header line: rows as column-name → text.
struct Csv {
    rows: Vec<BTreeMap<String, String>>,
}

impl Csv {
    fn read(path: &Path) -> Option<Csv> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let head: Vec<String> = lines
            .next()?
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        let rows = lines
            .map(|l| {
                head.iter()
                    .cloned()
                    .zip(l.split(',').map(|s| s.trim().to_string()))
                    .collect()
            })
            .collect();
        Some(Csv { rows })
    }
    fn col(&self, name: &str) -> Vec<f64> {
        self.rows
            .iter()
            .filter_map(|r| r.get(name)?.parse().ok())
            .collect()
    }
    fn pairs(&self, x: &str, y: &str) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter_map(|r| Some((r.get(x)?.parse().ok()?, r.get(y)?.parse().ok()?)))
            .collect()
    }
}

/// The first (or last) non-empty value of a column, with its row's `vm`.
fn first_val(c: &Csv, col: &str, last: bool) -> String {
    let mut it: Box<dyn Iterator<Item = &BTreeMap<String, String>>> = if last {
        Box::new(c.rows.iter().rev())
    } else {
        Box::new(c.rows.iter())
    };
    it.find_map(|r| {
        let v = r.get(col).filter(|v| !v.is_empty())?;
        Some(format!(
            "{v} (VM {})",
            r.get("vm").map(String::as_str).unwrap_or("?")
        ))
    })
    .unwrap_or_else(|| "-".into())
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// "Nice" tick step for a range.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 6.0).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if raw <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

struct Series<'a> {
    name: &'a str,
    color: &'a str,
    points: Vec<(f64, f64)>,
    /// Draw a line through the points (else markers only).
    line: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn line_plot(path: &Path, title: &str, xl: &str, yl: &str, series: &[Series]) {
    let (w, h, l, r, t, b) = (760.0, 440.0, 70.0, 20.0, 40.0, 60.0);
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let xmax = all.iter().map(|p| p.0).fold(0.0, f64::max).max(1.0);
    let ymax = all.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.1;
    let (xs, ys) = (tick_step(xmax), tick_step(ymax));
    let px = |x: f64| l + (x / xmax) * (w - l - r);
    let py = |y: f64| h - b - (y / ymax) * (h - t - b);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let mut x = 0.0;
    while x <= xmax + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#ddd"/><text x="{0}" y="{3}" text-anchor="middle">{4}</text>"##,
            px(x),
            t,
            h - b,
            h - b + 16.0,
            x
        );
        x += xs;
    }
    let mut y = 0.0;
    while y <= ymax + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#ddd"/><text x="{3}" y="{4}" text-anchor="end">{5}</text>"##,
            l,
            py(y),
            w - r,
            l - 6.0,
            py(y) + 4.0,
            (y * 1000.0).round() / 1000.0
        );
        y += ys;
    }
    let _ = writeln!(
        s,
        r#"<line x1="{l}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><line x1="{l}" y1="{t}" x2="{l}" y2="{0}" stroke="black"/>"#,
        h - b,
        w - r
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (l + w - r) / 2.0,
        h - 18.0,
        esc(xl)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{0}" text-anchor="middle" transform="rotate(-90 16 {0})">{1}</text>"#,
        (t + h - b) / 2.0,
        esc(yl)
    );
    for (i, se) in series.iter().enumerate() {
        if se.line && se.points.len() > 1 {
            let pts: Vec<String> = se
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
                se.color,
                pts.join(" ")
            );
        }
        for &(x, y) in &se.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#,
                px(x),
                py(y),
                se.color
            );
        }
        let ly = t + 14.0 + 16.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            l + 12.0,
            ly - 4.0,
            se.color,
            l + 30.0,
            ly,
            esc(se.name)
        );
    }
    s += "</svg>\n";
    std::fs::write(path, s).expect("write svg");
}

/// One horizontal stacked bar of phases (Table 1).
fn stacked_bar(path: &Path, title: &str, phases: &[(&str, f64)]) {
    let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f", "#bab0ac", "#86bcb6",
    ];
    let total: f64 = phases.iter().map(|p| p.1.max(0.0)).sum::<f64>().max(1e-9);
    let (w, l, r) = (760.0, 20.0, 20.0);
    let h = 120.0 + 18.0 * phases.len() as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let mut x = l;
    for (i, (name, v)) in phases.iter().enumerate() {
        let bw = v.max(0.0) / total * (w - l - r);
        let c = colors[i % colors.len()];
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="40" width="{bw:.1}" height="36" fill="{c}"/>"#
        );
        let ly = 100.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{l}" y="{}" width="12" height="12" fill="{c}"/><text x="{}" y="{}">{}: {:.3} s ({:.0}%)</text>"#,
            ly - 10.0,
            l + 18.0,
            ly,
            esc(name),
            v,
            v / total * 100.0
        );
        x += bw;
    }
    s += "</svg>\n";
    std::fs::write(path, s).expect("write svg");
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "bench/results".into()),
    );
    let f = |n: &str| dir.join(n);
    let mut md = String::new();
    md += "# ClickOS-rs on Xen: boot and control-plane benchmarks\n\n";
    md +=
        "Measured in the test host (Xen 4.17 + Debian 12 dom0 **under QEMU software emulation**, \
           2 vCPUs, 3 GiB, dom0 1 GiB) by `make bench-xen` (bench/xen/). Absolute times are \
           emulation times, many times slower than hardware; the shapes and ratios are what \
           carry over. Raw data: the `xen-*.csv` files next to this one.\n\n";

    // ---- Table 1
    if let Some(t1) = Csv::read(&f("xen-table1.csv")) {
        let phases: [(&str, &str); 12] = [
            ("xl start", "xl_start_s"),
            ("config parse + memory check (xl)", "config_memcheck_s"),
            (
                "domain creation (hypervisor + Xenstore dirs)",
                "domain_creation_s",
            ),
            ("image load and build", "image_build_s"),
            (
                "Xenstore writes (introduce, store/console nodes)",
                "xenstore_s",
            ),
            (
                "network device (vif backend + hotplug script)",
                "network_device_s",
            ),
            ("console device", "console_s"),
            ("unpause + xl exit", "unpause_exit_s"),
            (
                "guest boot until ClickOS control plane (boot=ok seen)",
                "boot_wait_s",
            ),
            ("config install (Xenstore writes)", "install_s"),
            (
                "router start (guest parses, builds, acks)",
                "router_start_s",
            ),
            ("total: create until router Running", "total_s"),
        ];
        let n = t1.rows.len();
        md += &format!(
            "## Table 1: one `clickos-cli create` with one vif, per phase (median of {n} run(s))\n\n\
             Phases of `xl -vvv create` are cut at its log lines (time-stamped as they arrive; \
             verbose logging itself slows xl down under emulation), the rest at clickos-cli's \
             own timestamps around each Xenstore step.\n\n| phase | median s | runs (s) |\n|---|---|---|\n"
        );
        let runs = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut bars = Vec::new();
        for (name, col) in phases {
            let v = t1.col(col);
            let m = median(&v);
            md += &format!("| {name} | {m:.3} | {} |\n", runs(&v));
            if col != "total_s" {
                bars.push((name, m));
            }
        }
        let gb: Vec<f64> = t1.col("guest_boot_us").iter().map(|u| u / 1e6).collect();
        if !gb.is_empty() {
            md += &format!(
                "| (guest's own clock: `_start` until boot=ok written) | {:.3} | {} |\n",
                median(&gb),
                runs(&gb)
            );
        }
        md += "\n![Table 1](xen-table1.svg)\n\n";
        stacked_bar(
            &f("xen-table1.svg"),
            "Table 1: clickos-cli create, per phase (s, under emulation)",
            &bars,
        );
    }

    // ---- Figure 4
    let mut vm1_boot = f64::NAN;
    if let Some(f4) = Csv::read(&f("xen-fig4.csv")) {
        let n = f4.rows.len();
        let boot = f4.pairs("vm", "boot_s");
        let total = f4.pairs("vm", "create_wall_s");
        let xl = f4.pairs("vm", "xl_create_s");
        line_plot(
            &f("xen-fig4.svg"),
            &format!("Figure 4: boot time of the Nth ClickOS VM ({n} VMs, one after another)"),
            "VM number",
            "seconds",
            &[
                Series {
                    name: "create until router Running (clickos-cli wall)",
                    color: "#e15759",
                    points: total.clone(),
                    line: true,
                },
                Series {
                    name: "create until guest boot=ok",
                    color: "#4e79a7",
                    points: boot.clone(),
                    line: true,
                },
                Series {
                    name: "xl create alone",
                    color: "#59a14f",
                    points: xl.clone(),
                    line: true,
                },
            ],
        );
        let at = |v: &[(f64, f64)], i: usize| v.get(i).map(|p| p.1).unwrap_or(f64::NAN);
        vm1_boot = at(&boot, 0);
        md += &format!(
            "## Figure 4: boot time of the Nth VM\n\n{n} VMs of {} created one after another \
             (all left running).\n\n| | VM 1 | VM {n} |\n|---|---|---|\n\
             | xl create (s) | {:.3} | {:.3} |\n| create until boot=ok (s) | {:.3} | {:.3} |\n\
             | create until router Running, wall (s) | {:.3} | {:.3} |\n\
             | Xenstore nodes (first / last checkpoint) | {} | {} |\n| Xen free memory, MiB (first / last checkpoint) | {} | {} |\n\n\
             ![Figure 4](xen-fig4.svg)\n\n",
            "8 MiB",
            at(&xl, 0),
            at(&xl, n.saturating_sub(1)),
            at(&boot, 0),
            at(&boot, n.saturating_sub(1)),
            at(&total, 0),
            at(&total, n.saturating_sub(1)),
            first_val(&f4, "xenstore_nodes", false),
            first_val(&f4, "xenstore_nodes", true),
            first_val(&f4, "free_memory_mb", false),
            first_val(&f4, "free_memory_mb", true),
        );
    }

    // ---- Figure 5
    if let Some(f5) = Csv::read(&f("xen-fig5.csv")) {
        let mut by_k: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
        for r in &f5.rows {
            let (Some(k), Some(a), Some(w)) = (
                r.get("k_running_others")
                    .and_then(|v| v.parse::<i64>().ok()),
                r.get("install_s").and_then(|v| v.parse::<f64>().ok()),
                r.get("install_wall_s").and_then(|v| v.parse::<f64>().ok()),
            ) else {
                continue;
            };
            by_k.entry(k).or_default().push((a, w));
        }
        let med: Vec<(f64, f64, f64)> = by_k
            .iter()
            .map(|(k, v)| {
                let a: Vec<f64> = v.iter().map(|p| p.0).collect();
                let w: Vec<f64> = v.iter().map(|p| p.1).collect();
                (*k as f64, median(&a), median(&w))
            })
            .collect();
        line_plot(
            &f("xen-fig5.svg"),
            "Figure 5: installing a configuration in one VM while K others run",
            "K (other ClickOS VMs running)",
            "seconds (median)",
            &[
                Series {
                    name: "clickos-cli install, wall (process start to Running)",
                    color: "#e15759",
                    points: med.iter().map(|m| (m.0, m.2)).collect(),
                    line: true,
                },
                Series {
                    name: "Xenstore writes + router start",
                    color: "#4e79a7",
                    points: med.iter().map(|m| (m.0, m.1)).collect(),
                    line: true,
                },
            ],
        );
        md += "## Figure 5: config install time with K other VMs running\n\n\
               A firewall-like configuration (5 elements) installed as router 1 of VM 1 and \
               removed again, 3 times per K (median), as the Figure-4 VMs accumulate.\n\n\
               | K | install (Xenstore writes + start), s | wall incl. process start, s |\n|---|---|---|\n";
        for (k, a, w) in &med {
            md += &format!("| {k} | {a:.3} | {w:.3} |\n");
        }
        md += "\n![Figure 5](xen-fig5.svg)\n\n";
    }

    // ---- Baseline: ClickOS and Linux booted in turns, timed the same way
    if let Some(lx) = Csv::read(&f("xen-linux.csv")) {
        let of = |os: &str, col: &str| -> Vec<f64> {
            lx.rows
                .iter()
                .filter(|r| r.get("os").map(String::as_str).unwrap_or("linux") == os)
                .filter_map(|r| r.get(col)?.parse().ok())
                .collect()
        };
        let (lm, lx_create) = (of("linux", "marker_s"), of("linux", "xl_create_s"));
        let (cm, cx_create) = (of("clickos", "marker_s"), of("clickos", "xl_create_s"));
        let kernel = |os: &str| {
            lx.rows
                .iter()
                .find(|r| r.get("os").map(String::as_str).unwrap_or("linux") == os)
                .and_then(|r| Some(format!("{}, {} MiB", r.get("kernel")?, r.get("memory_mb")?)))
                .unwrap_or_else(|| "?".into())
        };
        if !lm.is_empty() && !cm.is_empty() {
            let list = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            md += &format!(
                "## Baseline: ClickOS vs a minimal Linux PV domU, same run\n\n\
                 Booted in turns (ClickOS, Linux, ClickOS, ...) in the same test-host boot, both \
                 with a plain `xl create` of a minimal config (no vif) and timed the same way: from \
                 `xl create` to a marker line in the guest's console log (ClickOS: `click: ready`, \
                 its control plane waiting for routers; Linux: Debian's dom0 kernel with a busybox \
                 initramfs whose /init prints `LINUX-DOMU-UP`). {} pair(s); medians.\n\n\
                 | | ClickOS ({}) | Linux ({}) | ratio Linux / ClickOS |\n|---|---|---|---|\n\
                 | xl create returns, s | {:.3} | {:.3} | {:.1}x |\n\
                 | until the console marker, s | {:.3} | {:.3} | **{:.1}x** |\n\
                 | runs (marker, s) | {} | {} | |\n\n",
                lm.len().min(cm.len()),
                kernel("clickos"),
                kernel("linux"),
                median(&cx_create),
                median(&lx_create),
                median(&lx_create) / median(&cx_create),
                median(&cm),
                median(&lm),
                median(&lm) / median(&cm),
                list(&cm),
                list(&lm),
            );
        } else if !lm.is_empty() {
            // Older runs measured Linux alone; compare with Figure 4's VM 1 (a different method).
            md += &format!(
                "## Baseline: minimal Linux PV domU\n\n`xl create` to the marker in its console \
                 log: {:.3} s (median of {}); ClickOS VM 1 create until boot=ok: {:.3} s.\n\n",
                median(&lm),
                lm.len(),
                vm1_boot
            );
        }
    }

    // ---- Soak
    if let Some(sk) = Csv::read(&f("xen-soak.csv")) {
        md += "## Soak: create + destroy, dom0 resources\n\n";
        let cols: Vec<String> = sk
            .rows
            .first()
            .map(|r| r.keys().filter(|k| *k != "label").cloned().collect())
            .unwrap_or_default();
        md += &format!(
            "| snapshot | {} |\n|---|{}\n",
            cols.join(" | "),
            "---|".repeat(cols.len())
        );
        for r in &sk.rows {
            let vals: Vec<&str> = cols
                .iter()
                .map(|c| r.get(c).map(String::as_str).unwrap_or("-"))
                .collect();
            md += &format!(
                "| {} | {} |\n",
                r.get("label").map(String::as_str).unwrap_or("?"),
                vals.join(" | ")
            );
        }
        if let Some(c) = Csv::read(&f("xen-soak-cycles.csv")) {
            let cr = c.col("create_s");
            md += &format!(
                "\n{} cycles; create (s): first {:.3}, median {:.3}, last {:.3}.\n",
                cr.len(),
                cr.first().copied().unwrap_or(f64::NAN),
                median(&cr),
                cr.last().copied().unwrap_or(f64::NAN)
            );
        }
        md += "\n";
    }
    for mode in ["bench", "soak"] {
        if let Ok(t) = std::fs::read_to_string(f(&format!("xen-host-{mode}.txt"))) {
            md += &format!(
                "Build host during the {mode} run: {}\n\n",
                t.replace('\n', "; ")
            );
        }
    }
    std::fs::write(f("xen-boot.md"), &md).expect("write summary");
    print!("{md}");
}
