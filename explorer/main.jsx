// The offline explorer: GraphiQL against this server's /graphql, bundled by build.mjs into static
// files the server serves in development, so it needs no internet (Apollo Sandbox loads from a CDN).
import "./workers.js";
import "graphiql/style.css";
import "./page.css";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";

const DEFAULT_QUERY = `# graphql-auth-server's offline explorer.
# 1. Cursor in Login, press run (or Ctrl-Enter):
#    the answer holds an accessToken.
# 2. In Headers below, write
#    {"Authorization": "Bearer <accessToken>"}
# 3. Cursor in Me, press run.

mutation Login {
  login(username: "johndoe", password: "secret") {
    accessToken
    tokenType
    expiresIn
    scope
  }
}

query Me {
  me { id username email fullName disabled scopes }
  myItems { itemId owner }
  status
}
`;

// A JSON POST, the request Apollo's CSRF prevention lets through; headers come from the Headers editor.
async function fetcher(params, options) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...options?.headers },
    body: JSON.stringify(params),
  });
  return response.json();
}

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} isHeadersEditorEnabled defaultEditorToolsVisibility="headers" />,
);
