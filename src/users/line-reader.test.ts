/** readBoundedLines: line breaks, the byte bound at its edge, chunk boundaries anywhere, and UTF-8 checked per line. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileChunks, readBoundedLines, type ReadLine } from "./line-reader";

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(input: Buffer | string, maxBytes = 8, chunkSize = 3): Promise<ReadLine[]> {
  const lines: ReadLine[] = [];
  for await (const line of readBoundedLines(chunksOf(Buffer.from(input), chunkSize), maxBytes)) lines.push(line);
  return lines;
}

const ok = (number: number, text: string) => ({ number, ok: true, text });
const refused = (number: number, problem: string) => ({ number, ok: false, problem });

describe("readBoundedLines", () => {
  it.each([1, 2, 3, 7, 64])(
    "splits on \\n and \\r\\n, counts blank lines, keeps a last line without a break (chunks of %i)",
    async (chunkSize) => {
      expect(await read("ab\r\n\ncd\n\r\nlast", 8, chunkSize)).toEqual([ok(1, "ab"), ok(2, ""), ok(3, "cd"), ok(4, ""), ok(5, "last")]);
    },
  );

  it("yields no line after a final break, and none for an empty input", async () => {
    expect(await read("a\n")).toEqual([ok(1, "a")]);
    expect(await read("")).toEqual([]);
  });

  it.each([1, 3, 8, 9, 100])(
    "takes a line of exactly the bound, with or without \\r, and refuses one byte more (chunks of %i)",
    async (chunkSize) => {
      expect(await read("12345678\n12345678\r\n123456789\n123456789\r\nok", 8, chunkSize)).toEqual([
        ok(1, "12345678"),
        ok(2, "12345678"),
        refused(3, "too long"),
        refused(4, "too long"),
        ok(5, "ok"),
      ]);
    },
  );

  it("refuses an overlong last line that has no break", async () => {
    expect(await read("a\n1234567890123")).toEqual([ok(1, "a"), refused(2, "too long")]);
  });

  it.each([1, 2, 5])("decodes a multi-byte character split across chunks (chunks of %i)", async (chunkSize) => {
    expect(await read("é€😀\nx", 16, chunkSize)).toEqual([ok(1, "é€😀"), ok(2, "x")]);
  });

  it.each([
    ["a lone continuation byte", [0x61, 0x80]],
    ["ISO-8859-1 é", [0x52, 0xe9]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["an overlong encoding of /", [0xc0, 0xaf]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
  ])("refuses %s instead of decoding it as U+FFFD, and goes on", async (_, bytes) => {
    expect(await read(Buffer.concat([Buffer.from(bytes), Buffer.from("\nnext")]))).toEqual([refused(1, "not UTF-8"), ok(2, "next")]);
  });

  it("keeps a byte-order mark for the caller to strip", async () => {
    expect(await read("\uFEFFa", 8)).toEqual([ok(1, "\uFEFFa")]);
  });
});

describe("FileChunks", () => {
  const dir = mkdtempSync(join(tmpdir(), "file-chunks-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a whole file through one reused buffer, and readBoundedLines keeps every line intact", async () => {
    const path = join(dir, "lines.txt");
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(i)}`).join("\n");
    writeFileSync(path, text);
    const file = await open(path, "r");
    try {
      const chunks = new FileChunks(file, 7);
      const seen = new Set<ArrayBufferLike>();
      const lines: string[] = [];
      const tracked = {
        async *[Symbol.asyncIterator]() {
          for await (const chunk of chunks) {
            seen.add(chunk.buffer);
            yield chunk;
          }
        },
      };
      for await (const line of readBoundedLines(tracked, 1024)) if (line.ok) lines.push(line.text);
      expect(lines.join("\n")).toBe(text);
      expect(chunks.bytesRead).toBe(Buffer.byteLength(text));
      expect(seen.size).toBe(1);
      expect(chunks.failure).toBeUndefined();
    } finally {
      await file.close();
    }
  });

  it("records the read error that ended it", async () => {
    const broken = new Error("EIO");
    const chunks = new FileChunks({ read: () => Promise.reject(broken) });
    await expect(readBoundedLines(chunks, 8).next()).rejects.toBe(broken);
    expect(chunks.failure).toBe(broken);
  });
});
