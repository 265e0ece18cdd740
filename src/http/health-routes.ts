/** Liveness and readiness probes. */
import { type FastifyInstance } from "fastify";
import { classify, logSummary } from "../error-classes";
import { ServiceUnavailable } from "../errors";

/** `/healthz`: the process answers. `/readyz`: database start-up has finished and the database answers, else 503. */
export function registerHealthRoutes(app: FastifyInstance, ping: () => Promise<void>, databaseReady: () => boolean): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (request, reply) => {
    try {
      if (!databaseReady()) throw new ServiceUnavailable("database start-up has not finished");
      await ping();
      return { status: "ok" };
    } catch (error) {
      // Probes repeat every few seconds through an outage: one short line each, no stack; an
      // outage at warn, any other failure at error (classify).
      const level = classify(error).logLevel === "warn" ? "warn" : "error";
      request.log[level]({ err: logSummary(error) }, "readiness check: the database does not answer");
      return reply.code(503).send({ status: "unavailable" });
    }
  });
}
