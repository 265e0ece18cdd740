/** The development landing page at GET /graphql: Apollo Sandbox, which offers the offline explorer when it cannot load. */
import { type ApolloServerPlugin, type GraphQLServerListener } from "@apollo/server";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";

/** Where the server serves its own explorer (GraphiQL built into static files). */
export const EXPLORER_PATH = "/graphiql";

const SANDBOX_SCRIPT = /(<script nonce="([0-9a-f]+)" src="https:\/\/embeddable-sandbox\.cdn\.apollographql\.com\/[^"]*"><\/script>)/;
const FALLBACK_TEXT = "<p>Apollo Sandbox cannot be loaded; it appears that you might be offline.</p>";

/**
 * Apollo's embedded Sandbox page, changed in two places: its "you might be offline" text links
 * to the explorer, and when Sandbox's script does not load (no internet: Sandbox comes from
 * Apollo's CDN) the page moves to the explorer by itself. Both use the page's own CSP nonce.
 */
export function sandboxWithOfflineExplorer(): ApolloServerPlugin {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false });
  return {
    async serverWillStart(service) {
      const listener = (await sandbox.serverWillStart?.(service)) as GraphQLServerListener | undefined;
      return {
        async renderLandingPage() {
          const page = await listener!.renderLandingPage!();
          return { html: async () => offerExplorer(typeof page.html === "string" ? page.html : await page.html()) };
        },
      };
    },
  };
}

/** Adds the link and the fallback to Sandbox's HTML; a page of another shape keeps the link only. */
export function offerExplorer(html: string): string {
  const link = `<p>Without the internet? Open the <a href="${EXPLORER_PATH}">offline explorer</a> (GraphiQL, served by this server).</p>`;
  const linked = html.replace(FALLBACK_TEXT, `${FALLBACK_TEXT}\n  ${link}`);
  // Scripts run in order, and one that failed to load is skipped: right after it, a missing
  // EmbeddedSandbox means the CDN could not be reached.
  return linked.replace(
    SANDBOX_SCRIPT,
    (_match, tag: string, nonce: string) =>
      `${tag}\n<script nonce="${nonce}">if (typeof window.EmbeddedSandbox !== "function") window.location.replace(${JSON.stringify(EXPLORER_PATH)});</script>`,
  );
}
