/** Scrapes a /metrics endpoint and reads the Prometheus text exposition format (version 0.0.4), for tests. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One scrape: every sample by name and labels, and the declared type of every metric family. */
export interface Scraped {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly types: ReadonlyMap<string, string>;
  /** The sample's value; undefined when no such series was exposed. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses exposition text; throws on a line that is neither a comment nor a sample. */
export function parsePrometheusText(text: string): Pick<Scraped, "types" | "value"> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? "").matchAll(LABEL))
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    samples.set(seriesKey(match[1]!, labels), Number(match[3]));
  }
  return { types, value: (name, labels = {}) => samples.get(seriesKey(name, labels)) };
}

function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return `${name}{${sorted.join(",")}}`;
}

/** GETs `url` (a /metrics endpoint) and parses the answer. */
export async function scrape(url: string): Promise<Scraped> {
  const response = await fetch(url);
  const text = await response.text();
  const parsed = response.status === 200 ? parsePrometheusText(text) : { types: new Map<string, string>(), value: () => undefined };
  return { status: response.status, contentType: response.headers.get("content-type"), text, ...parsed };
}

/**
 * The TCP ports a process listens on (Linux): its socket file descriptors matched against the
 * kernel's tables of listening sockets, so a test can tell which process holds which port.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  const ports: number[] = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = row.trim().split(/\s+/);
      // local_address is ip:port in hex; st 0A is LISTEN; the inode is the tenth field.
      if (fields.length < 10 || fields[3] !== "0A" || !inodes.has(fields[9]!)) continue;
      ports.push(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}
