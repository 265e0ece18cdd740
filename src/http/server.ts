/** The HTTP server: Fastify 5 carrying /graphql (through Apollo), the OAuth endpoints, the JWKS, health probes and their limits. */
import { randomUUID } from "node:crypto";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { type ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { buildContext, type ContextDeps } from "../auth/context";
import { type LoginDeps } from "../auth/login";
import { type SigningKeys } from "../auth/keys";
import { type Config } from "../config";
import { classify } from "../error-classes";
import { readinessPlugin } from "../graphql/readiness-plugin";
import { type Logger } from "../log";
import { type Context } from "../users/viewer";
import { registerAccountPagesRoutes } from "./account-pages-route";
import { authorizationOf } from "./authorization-header";
import { bodyText } from "./body-text";
import { registerCorsScope } from "./cors";
import { registerExplorerRoutes } from "./explorer-route";
import { registerHealthRoutes } from "./health-routes";
import { clientGoneSignal } from "./client-gone";
import { registerJwksRoute } from "./jwks-route";
import { capConnections, fastifyLimitOptions, HTTP_LIMITS, type HttpLimits } from "./limits";
import { registerRequestGuard } from "./request-guard";
import { registerIntrospectRoute } from "./introspect-route";
import { registerOAuthMetadataRoute } from "./oauth-metadata-route";
import { registerRevokeRoute } from "./revoke-route";
import { registerTokenRoute } from "./token-route";

export interface HttpServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly contextDeps: ContextDeps;
  /** The use cases behind POST /token, the same the GraphQL mutations call. */
  readonly auth: LoginDeps;
  readonly jwks: SigningKeys["jwks"];
  /** Resolves when the database answers a trivial query. */
  readonly ping: () => Promise<void>;
  /**
   * Whether database start-up (migrations) has finished; until then /readyz, POST /token and
   * every GraphQL operation answer 503. The one readiness signal: the server hands it to each.
   */
  readonly databaseReady: () => boolean;
  /** Builds Apollo with the plugins the server supplies (the drain, the readiness gate). */
  readonly createApollo: (plugins: ApolloServerPlugin<Context>[]) => ApolloServer<Context>;
  /** Body size, timeouts and connection cap; HTTP_LIMITS unless a test shortens them. */
  readonly limits?: HttpLimits;
}

export interface HttpServer {
  readonly fastify: FastifyInstance;
  readonly apollo: ApolloServer<Context>;
}

/** Builds the Fastify instance with every route registered; `listen` is the caller's. */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, logger, contextDeps, limits = HTTP_LIMITS } = options;
  const fastify = Fastify({
    // pino 10 types the logger more narrowly than Fastify 5 expects; it is the same object.
    loggerInstance: logger as FastifyBaseLogger,
    // Body size and every timeout: Fastify's request and connection timeouts default to 0
    // (never), so a client that sends half a request would hold its socket for ever.
    ...fastifyLimitOptions(limits),
    // X-Forwarded-For is believed for exactly the configured number of proxy hops: `true` would
    // believe every entry, and the leftmost one is whatever the client wrote (ATTACKS G12).
    trustProxy: config.trustProxy > 0 ? (_address: string, hop: number) => hop < config.trustProxy : false,
    genReqId: () => randomUUID(),
    // One line per request, written by the onResponse hook below, instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  capConnections(fastify.server, limits);
  registerRequestGuard(fastify, config.allowedHosts);

  // JSON bodies are read as bytes and decoded by bodyText (UTF-8 only, a declared charset must
  // say so), then parsed by Fastify's own parser with its prototype-poisoning checks.
  const parseJson = fastify.getDefaultJsonParser("error", "error");
  fastify.removeContentTypeParser("application/json");
  fastify.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = bodyText(body as Buffer, request.headers["content-type"]);
    } catch (error) {
      return done(error as Error, undefined);
    }
    void parseJson(request, text, done);
  });

  // During shutdown, answers to requests still in flight end their connection: a keep-alive
  // connection would otherwise hold server.close() (and so SIGTERM) open until the client left.
  let closing = false;
  fastify.addHook("preClose", async () => {
    closing = true;
  });
  // These two hooks run on every request: callback style, because an async hook costs a promise
  // and a microtask turn each time.
  fastify.addHook("onSend", (request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    // Every answer of /graphql, errors and the landing page included: some carry tokens (login,
    // refresh, changePassword) and all are about the caller (RFC 6749 section 5.1).
    if (isGraphQLPath(request.url)) reply.header("cache-control", "no-store");
    done(null, payload);
  });

  fastify.addHook("onResponse", (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime) }, "request completed");
    done();
  });

  // Fastify's own errors (malformed JSON, wrong content type, body too large) as 4xx JSON; any
  // other failure becomes a 500 without its message or stack (classify).
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, logLevel, publicError, err } = classify(error);
    if (status >= 500) {
      request.log[logLevel]({ err }, "unexpected error in an HTTP request");
      const body = { error: publicError.code.toLowerCase(), message: publicError.message, requestId: request.id };
      return reply.code(status).send(body);
    }
    request.log[logLevel]({ err }, "request refused");
    return reply.code(status).send({ error: publicError.code, message: publicError.message });
  });
  fastify.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not_found", message: "Not found" }));

  registerHealthRoutes(fastify, options.ping, options.databaseReady);
  registerJwksRoute(fastify, options.jwks);
  if (config.nodeEnv === "development") registerExplorerRoutes(fastify, logger);
  registerAccountPagesRoutes(fastify);
  registerOAuthMetadataRoute(fastify, config);

  const apollo = options.createApollo([fastifyApolloDrainPlugin(fastify), readinessPlugin(options.databaseReady)]);
  await apollo.start();
  // The endpoints a browser app may call (CORS_PATHS), in the scope that carries CORS.
  await registerCorsScope(fastify, config.corsOrigins, async (api) => {
    await registerTokenRoute(api, options.auth, options.databaseReady);
    // RFC 7009 and 7662 beside /token: the same use cases, form parsing and error answers.
    await registerRevokeRoute(api, options.auth, options.databaseReady);
    const introspection = { ...options.auth, ...contextDeps, issuer: config.jwtIssuer, audience: config.jwtAudience };
    await registerIntrospectRoute(api, introspection, options.databaseReady);
    await api.register(fastifyApollo(apollo), {
      path: "/graphql",
      method: ["GET", "POST", "OPTIONS"],
      context: async (request, reply) => {
        return buildContext(
          {
            requestId: request.id,
            clientAddress: request.ip,
            authorization: authorizationOf(request.raw.rawHeaders),
            userAgent: request.headers["user-agent"],
            // Made when a use case asks (a login, a password check), not for every request.
            // Made late, it still aborts at once for a client already gone (its response is destroyed).
            clientGone: () => clientGoneSignal(reply.raw),
          },
          contextDeps,
        );
      },
    });
  });
  return { fastify, apollo };
}

function isGraphQLPath(url: string): boolean {
  return url.startsWith("/graphql") && (url.length === 8 || url[8] === "?");
}
