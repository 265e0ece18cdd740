/** Raw HTTP/1.1 to the server: what fetch cannot send (several Authorization headers). */
import { connect } from "node:net";

export const ME = "{ me { id } }";

/** POSTs `{ me { id } }` with the raw Authorization header values given (several = several headers). */
export async function rawGraphQL(
  baseUrl: string,
  authorizations: readonly string[],
  query = ME,
): Promise<{ status: number; headers: Record<string, string>; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  const body = JSON.stringify({ query });
  const lines = [
    "POST /graphql HTTP/1.1",
    `Host: ${hostname}:${port}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    ...authorizations.map((value) => `Authorization: ${value}`),
  ];
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text = rest.join("\r\n\r\n");
  // Chunked bodies: take the JSON between the chunk-size lines.
  const json =
    headers["transfer-encoding"] === "chunked"
      ? text
          .split("\r\n")
          .filter((_, i) => i % 2 === 1)
          .join("")
      : text;
  return { status: Number(statusLine.split(" ")[1]), headers, body: json ? JSON.parse(json) : undefined };
}
