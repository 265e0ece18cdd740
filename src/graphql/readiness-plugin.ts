/** Refuses GraphQL operations with "Service unavailable" until the database has been migrated. */
import { type ApolloServerPlugin } from "@apollo/server";
import { type Context } from "../users/viewer";
import { ServiceUnavailable } from "../errors";

/**
 * Until `isReady()`, every operation that parsed and validated gets `ServiceUnavailable` before
 * any resolver (or the bearer-token lookup) touches a database that may have no tables yet.
 */
export function readinessPlugin(isReady: () => boolean): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      // Readiness never goes back, so once ready a request needs no hook at all.
      if (isReady()) return;
      return {
        async didResolveOperation({ response }) {
          if (isReady()) return;
          // Apollo answers an error thrown here with a 500 unless a status is already set; the
          // answer should look like a database fault met while resolving: 200, error in the body.
          response.http.status = 200;
          throw new ServiceUnavailable("database start-up has not finished");
        },
      };
    },
  };
}
