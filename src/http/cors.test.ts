import Fastify from "fastify";
import { registerCorsScope } from "./cors";

describe("registerCorsScope", () => {
  it("carries only the endpoints of CORS_PATHS: another route in its scope stops start-up", async () => {
    const app = Fastify();
    await expect(
      registerCorsScope(app, ["https://app.example"], async (api) => {
        api.get("/healthz", async () => ({ status: "ok" }));
      }),
    ).rejects.toThrow("/healthz is not one of CORS_PATHS");
    await app.close();
  });

  it("answers a preflight on its endpoints and 404 on any other path, which gets no CORS header", async () => {
    const app = Fastify();
    await registerCorsScope(app, ["https://app.example"], async (api) => {
      api.post("/token", async () => ({ ok: true }));
      api.options("/token", async () => "");
    });
    app.get("/healthz", async () => ({ status: "ok" }));
    const preflight = (url: string) =>
      app.inject({ method: "OPTIONS", url, headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    const token = await preflight("/token");
    expect(token.statusCode).toBe(204);
    expect(token.headers["access-control-allow-origin"]).toBe("https://app.example");
    const other = await preflight("/healthz");
    expect(other.statusCode).toBe(404);
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const health = await app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://app.example" } });
    expect(health.headers.vary).toBeUndefined();
    await app.close();
  });
});
