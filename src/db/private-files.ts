/** Private files: the SQLite database, its -wal and -shm files and the data folder, for the service user alone. */
import { closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { type Logger } from "../log";

/** CONTRACT section 15: the data folder 0700, the database and its side files 0600. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes the folder of a SQLite database (and any missing parent) with mode 0700, and the database
 * file, empty, with mode 0600, when they do not exist yet. SQLite gives its -wal and -shm files the
 * main file's mode, so they are 0600 too. The modes are given at creation, never set by a chmod
 * afterwards, so there is no moment when another local user could open a file and keep it open.
 * An existing folder or file is left as it is (see warnAboutOpenModes).
 */
export function createPrivateDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    // `wx`: exclusive, so a file that appeared meanwhile (another worker, the CLI) is never truncated.
    closeSync(openSync(path, "wx", PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/**
 * Logs a warning for the folder, the database, and its -wal and -shm files, each that exists with
 * a mode that lets other local users in (any group or other bit), naming the path and the mode.
 * A warning and not a refusal, as for key files: the operator may share them on purpose (a backup
 * group), and the fix, a chmod, is theirs to make.
 */
export function warnAboutOpenModes(path: string, logger: Logger | undefined): void {
  const checks = [
    { file: dirname(path), what: "data folder", want: PRIVATE_DIR_MODE },
    { file: path, what: "database file", want: PRIVATE_FILE_MODE },
    { file: `${path}-wal`, what: "database file", want: PRIVATE_FILE_MODE },
    { file: `${path}-shm`, what: "database file", want: PRIVATE_FILE_MODE },
  ];
  for (const { file, what, want } of checks) {
    const mode = modeOf(file);
    if (mode === undefined || (mode & 0o077) === 0) continue;
    const octal = mode.toString(8);
    logger?.warn({ file, mode: octal }, `${what} ${file} has mode ${octal}, open to other local users: chmod ${want.toString(8)} it`);
  }
}

function modeOf(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}
