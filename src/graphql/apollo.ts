/** Apollo Server, configured explicitly from Config rather than guessed from NODE_ENV. */
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { type GraphQLSchema } from "graphql";
import { type Context } from "../users/viewer";
import { type Config } from "../config";
import { type Logger } from "../log";
import { createDocumentStore, createPersistedQueryCache } from "./document-cache";
import { classifyGraphQLError, createFormatError, httpAnswerFor, wwwAuthenticateFor } from "./format-error";
import { sandboxWithOfflineExplorer } from "./landing-page";
import { MAX_DIRECTIVES, MAX_TOKENS, queryLimitsRule } from "./limits";

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly config: Config;
  readonly logger: Logger;
  readonly plugins?: ApolloServerPlugin<Context>[];
}

/** Builds (but does not start) the Apollo server. */
export function createApollo({ schema, config, logger, plugins = [] }: ApolloOptions): ApolloServer<Context> {
  const development = config.nodeEnv === "development";
  return new ApolloServer<Context>({
    schema,
    introspection: config.nodeEnv !== "production",
    includeStacktraceInErrorResponses: development,
    hideSchemaDetailsFromClientErrors: !development,
    // Off unless GRAPHQL_BATCHING=true: Apollo then answers an array body with 400 "Operation
    // batching disabled.". When on, every operation is limited and every login counted on its own.
    allowBatchedHttpRequests: config.graphqlBatching,
    // Blocks simple (CORS-less) requests: GET without a preflight-forcing header, and form posts.
    csrfPrevention: true,
    parseOptions: { maxTokens: MAX_TOKENS },
    // Apollo's default caches measure a document as the JSON of its syntax tree, without the
    // source text each entry keeps: unique padded queries then grew the heap without bound.
    documentStore: createDocumentStore(),
    persistedQueries: { cache: createPersistedQueryCache() },
    validationRules: [
      queryLimitsRule({ maxAliases: config.graphqlMaxAliases, maxDepth: config.graphqlMaxDepth, maxDirectives: MAX_DIRECTIVES }),
    ],
    formatError: createFormatError({ exposeUnexpected: development }),
    logger,
    plugins: [
      development ? sandboxWithOfflineExplorer() : ApolloServerPluginLandingPageDisabled(),
      errorResponsePlugin(logger),
      // Every answer here is about the caller, so there is nothing for an HTTP cache to share, and
      // no field sets a cache hint. Apollo's default cache-control plugin would still wrap every
      // resolver of every request to compute a policy nobody uses.
      ApolloServerPluginCacheControlDisabled(),
      ...plugins,
    ],
  });
}

/**
 * Sets WWW-Authenticate (and a 503's Retry-After) from the errors a response carries, and logs unexpected errors with the
 * request id that the masked answer also carries.
 */
function errorResponsePlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, response }) {
          const challenge = wwwAuthenticateFor(errors);
          if (challenge) response.http.headers.set("www-authenticate", challenge);
          const answer = httpAnswerFor(errors);
          if (answer) {
            response.http.status = answer.status;
            for (const [name, value] of Object.entries(answer.headers)) response.http.headers.set(name, value);
          }
          for (const error of errors) {
            // An outage fails every request alike: one short line each (warn), not a stack trace each.
            const { logLevel, err } = classifyGraphQLError(error);
            if (logLevel === "silent") continue;
            const message =
              logLevel === "warn" ? "database unavailable: answered Service unavailable" : "unexpected error in a GraphQL request";
            logger[logLevel]({ err, requestId: contextValue.requestId }, message);
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== "single") return;
          const errors = response.body.singleResult.errors;
          if (!errors?.some((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR")) return;
          response.body.singleResult.errors = errors.map((e) =>
            e.extensions?.code === "INTERNAL_SERVER_ERROR"
              ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } }
              : e,
          );
        },
      };
    },
  };
}
