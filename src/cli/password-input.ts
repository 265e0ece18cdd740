/** Reads a new password from standard input or from a no-echo prompt; never from an argument. */
import { read } from "read";
import { InvalidInput, PasswordPolicyViolation } from "../errors";
import { MAX_PASSWORD_LENGTH } from "../passwords/password-policy";
import { type CliIO } from "./runtime";

/** Enough bytes for the longest allowed password in any encoding; more is refused without reading on. */
const MAX_STDIN_BYTES = MAX_PASSWORD_LENGTH * 4 + 2;
const NOT_UTF8 = "Password must be valid UTF-8";

/**
 * The new password: all of standard input with one trailing newline removed when `fromStdin`,
 * otherwise typed twice at a prompt on the terminal, without echo.
 * The caller still checks it against the policy (checkNewPassword).
 * @throws InvalidInput when there is no terminal to prompt on, or the two entries differ.
 * @throws PasswordPolicyViolation when standard input is far longer than any allowed password, or
 *   the bytes read (piped or typed) are not valid UTF-8.
 */
export async function readNewPassword(io: CliIO, options: { fromStdin: boolean }): Promise<string> {
  if (options.fromStdin) return stripOneNewline(await readAll(io.stdin));
  if (!io.stdin.isTTY || !io.stderr.isTTY) {
    throw new InvalidInput("No terminal to prompt for the password: pipe it on standard input with --password-stdin");
  }
  const typed = watchUtf8(io.stdin);
  try {
    const first = await prompt(io, "Password:");
    const second = await prompt(io, "Repeat password:");
    typed.check();
    if (first !== second) throw new InvalidInput("The two passwords do not match");
    return first;
  } finally {
    typed.stop();
  }
}

/** A password piped on standard input (with one trailing newline removed), or typed twice at a prompt. */
export function readPasswordFromStdinOrPrompt(io: CliIO): Promise<string> {
  return readNewPassword(io, { fromStdin: !io.stdin.isTTY });
}

async function prompt(io: CliIO, text: string): Promise<string> {
  try {
    // `read` mutes the echo through mute-stream; the prompt goes to stderr to keep stdout for results.
    const answer = await read({ prompt: text, silent: true, input: io.stdin, output: io.stderr });
    // The newline the operator typed was muted with the rest; without it the next line overwrites the prompt.
    io.stderr.write("\n");
    return answer;
  } catch (error) {
    // Ctrl-C at the prompt: an operator's choice, not a failure worth a stack trace.
    if (error instanceof Error && error.message === "canceled") {
      io.stderr.write("\n");
      throw new InvalidInput("Canceled");
    }
    throw error;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) {
      throw new PasswordPolicyViolation(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
    }
    chunks.push(bytes);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

/**
 * Strict UTF-8: Buffer's toString would turn every invalid sequence into U+FFFD, so any N bad bytes
 * would hash alike and match any other N. A byte-order mark is kept as a character, as before.
 */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new PasswordPolicyViolation(NOT_UTF8);
  }
}

/**
 * Runs a strict decoder beside the prompt: readline decodes the terminal's bytes itself, replacing
 * invalid ones with U+FFFD, so the answer alone cannot tell a typed U+FFFD from a broken byte.
 * Listening to the same `data` events sees exactly the bytes readline sees.
 */
function watchUtf8(stdin: NodeJS.ReadableStream): { check(): void; stop(): void } {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let valid = true;
  const onData = (chunk: Buffer | string): void => {
    if (!valid || typeof chunk === "string") return;
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      valid = false;
    }
  };
  stdin.on("data", onData);
  return {
    check() {
      if (!valid) throw new PasswordPolicyViolation(NOT_UTF8);
    },
    stop() {
      stdin.removeListener("data", onData);
    },
  };
}

/** `echo pw | …` and a here-string add one newline; a password that itself ends in one keeps it. */
function stripOneNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}
