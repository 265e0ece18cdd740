/** The `users import` use case: stream a JSONL file, validate each line, write the rest in batches. */
import { open, type FileHandle } from "node:fs/promises";
import { isCurrentArgon2 } from "../passwords/password-formats/argon2";
import { type Argon2Policy } from "../config";
import { InvalidUsername, UnreadableFile } from "../errors";
import { parseImportLine } from "./import-line";
import { FileChunks, readBoundedLines } from "./line-reader";
import { LOOKS_LIKE_EXISTING } from "./user-fields";
import { type ImportedUser, type UserImportStore } from "./user-import.store";

export interface ImportDeps {
  readonly store: UserImportStore;
  /** The argon2id policy: a stored hash under it was written here, after any export was made. */
  readonly policy: Argon2Policy;
}

export interface ImportOptions {
  /**
   * Give existing usernames the fields their line states, instead of skipping them. A password
   * hash already under the current argon2id policy (the user has logged in or set a password here
   * since) is kept: the export cannot be newer.
   */
  readonly update?: boolean;
  /** Lines written per transaction. */
  readonly batchSize?: number;
  /** Called after each batch is committed, and once at the end. */
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly lines: number;
}

export interface LineRejection {
  /** 1-based, counting every line of the file, blank ones included. */
  readonly line: number;
  readonly reason: string;
}

export interface ImportResult {
  /** Users written: created, plus updated under `update`. */
  readonly imported: number;
  readonly created: number;
  readonly updated: number;
  /** Of the users written, those left without a usable password (the old system's unusable-password marker). */
  readonly withoutPassword: number;
  /** Lines naming a username that exists already (and, under `update`, has nothing to change). */
  readonly skipped: number;
  readonly rejected: number;
  readonly rejections: readonly LineRejection[];
}

export const DEFAULT_BATCH_SIZE = 500;
/** CONTRACT section 15: a longer line is refused unread, so memory stays bounded whatever the file holds. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Imports the users of a JSONL file (CONTRACT section 6). The file is read as a stream, line by line
 * with lines of at most MAX_LINE_BYTES, so neither its size nor its longest line is bounded by
 * memory. Blank lines are ignored; every other line is a user or a rejection with its line number
 * and reason (too long and invalid UTF-8 included). A username seen earlier in the same file, or
 * one that looks like it or like an existing account (UTS #39 skeleton), is rejected (the first
 * one wins). Each batch is one transaction: a failure midway keeps the batches already committed,
 * and a re-run skips them.
 * @throws UnreadableFile when the file cannot be opened or read.
 */
export async function importUsers(deps: ImportDeps, path: string, options: ImportOptions = {}): Promise<ImportResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const batchOptions = { update: options.update ?? false, keepsPasswordHash: (stored: string) => isCurrentArgon2(stored, deps.policy) };
  const file = await openReadable(path);
  const totalBytes = (await file.stat()).size;
  // Bytes, not text: the reader checks each line's UTF-8 itself instead of letting U+FFFD in.
  // Its `failure` tells a read error (UnreadableFile) from a database error.
  const chunks = new FileChunks(file);

  const firstLineOf = new Map<string, number>();
  const firstLineOfSkeleton = new Map<string, number>();
  const rejections: LineRejection[] = [];
  let batch: ImportedUser[] = [];
  let created = 0;
  let updated = 0;
  let skipped = 0;
  let withoutPassword = 0;
  let lineNumber = 0;

  const progress = () => options.onProgress?.({ bytesRead: Math.min(chunks.bytesRead, totalBytes), totalBytes, lines: lineNumber });
  const flush = async () => {
    const outcome = await deps.store.importBatch(batch, batchOptions);
    created += outcome.created;
    updated += outcome.updated;
    skipped += outcome.skipped;
    withoutPassword += outcome.withoutPassword;
    for (const user of outcome.lookAlikes)
      rejections.push({ line: firstLineOf.get(user.usernameKey)!, reason: new InvalidUsername(LOOKS_LIKE_EXISTING).detail });
    batch = [];
    progress();
  };

  try {
    for await (const read of readBoundedLines(chunks, MAX_LINE_BYTES)) {
      lineNumber = read.number;
      if (!read.ok) {
        rejections.push({
          line: lineNumber,
          reason: read.problem === "too long" ? `longer than ${MAX_LINE_BYTES} bytes (64 KiB)` : "not valid UTF-8",
        });
        continue;
      }
      const text = lineNumber === 1 ? read.text.replace(/^\uFEFF/, "") : read.text;
      if (text.trim() === "") continue;
      const parsed = parseImportLine(text);
      if (!parsed.ok) {
        rejections.push({ line: lineNumber, reason: parsed.reason });
        continue;
      }
      const first = firstLineOf.get(parsed.user.usernameKey);
      if (first !== undefined) {
        rejections.push({ line: lineNumber, reason: `username ${parsed.user.username} already appears on line ${first}` });
        continue;
      }
      const lookAlike = firstLineOfSkeleton.get(parsed.user.skeletonKey);
      if (lookAlike !== undefined) {
        rejections.push({ line: lineNumber, reason: new InvalidUsername(`looks like the username on line ${lookAlike}`).detail });
        continue;
      }
      firstLineOf.set(parsed.user.usernameKey, lineNumber);
      firstLineOfSkeleton.set(parsed.user.skeletonKey, lineNumber);
      batch.push(parsed.user);
      if (batch.length >= batchSize) await flush();
    }
  } catch (error) {
    if (chunks.failure !== undefined && error === chunks.failure)
      throw new UnreadableFile(path, isSystemError(error) ? error.code : undefined);
    throw error;
  } finally {
    await file.close();
  }
  await flush();
  // Look-alikes of existing accounts are known only once their batch is written.
  rejections.sort((a, b) => a.line - b.line);
  return { imported: created + updated, created, updated, skipped, withoutPassword, rejected: rejections.length, rejections };
}

async function openReadable(path: string): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error) {
    throw new UnreadableFile(path, isSystemError(error) ? error.code : undefined);
  }
  if (!(await file.stat()).isFile()) {
    await file.close();
    throw new UnreadableFile(path, "EISDIR");
  }
  return file;
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  // Duck-typed: Node's own errors fail `instanceof Error` across realms (jest's sandbox, for one).
  return typeof error === "object" && error !== null && typeof (error as NodeJS.ErrnoException).code === "string";
}
