/** A line reader with a bound: splits a byte stream on `\n`, never holding more than one line's bound of a line. */

/** One line of the input, numbered from 1, blank lines included. */
export type ReadLine =
  | { readonly number: number; readonly ok: true; readonly text: string }
  | { readonly number: number; readonly ok: false; readonly problem: "too long" | "not UTF-8" };

/**
 * Yields the lines of `chunks` (a file's bytes, in order), split on `\n` with one `\r` before it
 * dropped. A line of more than `maxBytes` bytes is yielded as `too long` and its bytes are
 * discarded as they arrive: it is never held whole, so memory stays near `maxBytes` plus one chunk
 * whatever the file holds (readline keeps the whole line as a string, and a line of a few hundred
 * megabytes ends the process). A line that is not valid UTF-8 is yielded as `not UTF-8` rather than
 * decoded with U+FFFD in place of the bad bytes, which would import a value nobody wrote.
 * A byte-order mark is kept; whether to strip it is the caller's choice. No chunk is kept past
 * the next one's arrival (what a line holds is copied), so a source may reuse one buffer.
 * @throws whatever the stream raises (a read error).
 */
export async function* readBoundedLines(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<ReadLine> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  let number = 0;
  // Room for the `\r` of a CRLF ending, which is not part of the line.
  const hold = (piece: Buffer) => {
    if (tooLong || piece.length === 0) return;
    if (held + piece.length > maxBytes + 1) {
      tooLong = true;
      parts = [];
      held = 0;
      return;
    }
    // A copy: a view would keep the whole chunk it was cut from alive.
    parts.push(Buffer.from(piece));
    held += piece.length;
  };
  const finish = (): ReadLine => {
    number += 1;
    let line = Buffer.concat(parts, held);
    const wasTooLong = tooLong;
    parts = [];
    held = 0;
    tooLong = false;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (wasTooLong || line.length > maxBytes) return { number, ok: false, problem: "too long" };
    try {
      return { number, ok: true, text: decoder.decode(line) };
    } catch {
      return { number, ok: false, problem: "not UTF-8" };
    }
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      hold(chunk.subarray(start, end));
      yield finish();
      start = end + 1;
    }
    hold(chunk.subarray(start));
  }
  // A last line without its `\n` still counts; nothing after a final `\n` is a line.
  if (held > 0 || tooLong) yield finish();
}

/**
 * A file's bytes from its current position to its end, every chunk read into the same buffer of
 * `size` bytes (valid until the next chunk is asked for; readBoundedLines copies what it keeps).
 * A read stream allocates a new buffer for every chunk, freed when V8 next collects; this holds
 * one, whatever the collector does. (It was written for a failure of test/security/files.test.ts
 * H11 that turned out to be the test's measurement: a read stream over a 256 MiB line peaks at
 * about 78 MiB too.) `failure` is the read error, if one ended the chunks.
 */
export class FileChunks implements AsyncIterable<Buffer> {
  bytesRead = 0;
  failure: unknown;

  constructor(
    private readonly file: { read(buffer: Buffer, offset: number, length: number, position: null): Promise<{ bytesRead: number }> },
    private readonly size = 64 * 1024,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const buffer = Buffer.allocUnsafe(this.size);
    for (;;) {
      let read: number;
      try {
        ({ bytesRead: read } = await this.file.read(buffer, 0, buffer.length, null));
      } catch (error) {
        this.failure = error;
        throw error;
      }
      if (read === 0) return;
      this.bytesRead += read;
      yield buffer.subarray(0, read);
    }
  }
}
