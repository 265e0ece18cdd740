/** Liveness and readiness probes. */
import { type FastifyInstance } from "fastify";

/** `/healthz`: the process answers. `/readyz`: database start-up has finished and the database answers, else 503. */
export function registerHealthRoutes(app: FastifyInstance, ping: () => Promise<void>, databaseReady: () => boolean): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (request, reply) => {
    try {
      if (!databaseReady()) throw new Error("database start-up has not finished");
      await ping();
      return { status: "ok" };
    } catch (error) {
      // Probes repeat every few seconds through an outage: one short line each, no stack.
      const { code, message } = error as { code?: unknown; message?: unknown };
      request.log.warn({ err: { code, message: String(message) } }, "readiness check: the database does not answer");
      return reply.code(503).send({ status: "unavailable" });
    }
  });
}
