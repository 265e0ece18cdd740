/** The bench report: one object for `--json`, and the same figures as markdown tables. */
import { cpus, availableParallelism, loadavg } from "node:os";

/** One load's medians as reported. */
export interface Row {
  readonly label: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  /** The server's highest RSS under the section's loads, MiB; a column only where a section has it. */
  readonly rssMiB?: number;
  /** e.g. "0.93 × plain `me`". */
  readonly comparison?: string;
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  /** undefined when the figure is not available on this run. */
  readonly met: boolean | undefined;
}

export interface Section {
  readonly title: string;
  readonly note?: string;
  readonly rows: readonly Row[];
}

export interface BenchReport {
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    readonly date: string;
    /** The 1-minute load average when the report was made: other jobs on the machine show here. */
    readonly loadAverage: number;
  };
  readonly settings: Record<string, number | string | boolean>;
  readonly sections: readonly Section[];
  readonly ratios: Record<string, number | string>;
  readonly memory: Record<string, number | string>;
  readonly targets: readonly Target[];
  /** Reports of the optional bench modules found (bench/formats.ts, bench/login-timing.ts, ...). */
  readonly extras: ReadonlyArray<{ readonly name: string; readonly markdown: string; readonly json: unknown }>;
  /** The raw rounds behind every median. */
  readonly details: unknown;
}

/** Which machine this ran on: nproc, the CPU model, node. */
export function describeMachine(): BenchReport["machine"] {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
  };
}

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
const n1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
/** Requests per second: whole numbers, but one decimal where there are few (logins). */
const n1s = (x: number) => (Number.isFinite(x) && x < 100 ? x.toFixed(1) : n0(x));

/** The report as markdown, ready for the README. */
export function toMarkdown(report: BenchReport): string {
  const { machine, settings } = report;
  const lines = [
    `## Benchmark: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}, ${machine.date.slice(0, 10)}, load average ${machine.loadAverage} at the end`,
    "",
    `Settings: ${Object.entries(settings)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ")}. Figures are medians over the rounds; ratios are medians of per-round ratios.`,
    "",
  ];
  for (const section of report.sections) {
    lines.push(`### ${section.title}`, "");
    if (section.note) lines.push(section.note, "");
    const rss = section.rows.some((row) => row.rssMiB !== undefined);
    lines.push(
      `| load | req/s | p50 (ms) | p99 (ms) | server CPU (µs/request) |${rss ? " RSS (MiB) |" : ""} compared |`,
      `|---|---:|---:|---:|---:|${rss ? "---:|" : ""}---|`,
    );
    for (const row of section.rows) {
      const cells = [
        n1s(row.requestsPerSecond),
        n1(row.p50Ms),
        n1(row.p99Ms),
        n0(row.cpuUsPerRequest),
        ...(rss ? [n1(row.rssMiB ?? NaN)] : []),
      ];
      lines.push(`| ${row.label} | ${cells.join(" | ")} | ${row.comparison ?? ""} |`);
    }
    lines.push("");
  }
  if (Object.keys(report.memory).length > 0) {
    lines.push("### Memory (resident set size, MiB, sampled every 100 ms)", "", "| measurement | MiB |", "|---|---:|");
    for (const [key, value] of Object.entries(report.memory)) lines.push(`| ${key} | ${typeof value === "number" ? n1(value) : value} |`);
    lines.push("");
  }
  lines.push("### Targets", "", "| target | measured | met |", "|---|---|---|");
  for (const t of report.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met === undefined ? "n/a" : t.met ? "yes" : "**no**"} |`);
  lines.push("");
  for (const extra of report.extras) {
    const markdown = extra.markdown.trimEnd();
    lines.push(...(markdown.startsWith("#") ? [markdown] : [`### bench/${extra.name}.ts`, "", markdown]), "");
  }
  return `${lines.join("\n")}\n`;
}
