/** Liveness and readiness probes. */
import { type FastifyInstance } from "fastify";

/** `/healthz`: the process answers. `/readyz`: the database answers too, else 503. */
export function registerHealthRoutes(app: FastifyInstance, ping: () => Promise<void>): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (request, reply) => {
    try {
      await ping();
      return { status: "ok" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check: the database does not answer");
      return reply.code(503).send({ status: "unavailable" });
    }
  });
}
