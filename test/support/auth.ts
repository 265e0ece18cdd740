/** Helpers for token-lifecycle tests: token pairs through the real mutations, form posts to /token. */
import { type GraphQLResponse, type TestServer } from "../harness";

export interface Pair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  scope: string;
  tokenType: string;
}

const PAIR_FIELDS = "accessToken refreshToken expiresIn scope tokenType";

/** Logs in through the real `login` mutation and returns the whole payload. */
export async function loginPair(server: TestServer, username: string, password: string, scopes?: string[]): Promise<Pair> {
  const response = await server.gql(
    `mutation($username: String!, $password: String!, $scopes: [String!]) { login(username: $username, password: $password, scopes: $scopes) { ${PAIR_FIELDS} } }`,
    { username, password, scopes },
  );
  if (!response.body.data?.login) throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.login as Pair;
}

/** Calls the `refresh` mutation. */
export function refreshMutation(server: TestServer, refreshToken: string): Promise<GraphQLResponse<{ refresh: Pair }>> {
  return server.gql(`mutation($t: String!) { refresh(refreshToken: $t) { ${PAIR_FIELDS} } }`, { t: refreshToken });
}

/** Calls the `logout` mutation; `everywhere` omitted when undefined, so the default applies. */
export function logoutMutation(
  server: TestServer,
  refreshToken: string,
  everywhere?: boolean,
): Promise<GraphQLResponse<{ logout: boolean }>> {
  return everywhere === undefined
    ? server.gql("mutation($t: String!) { logout(refreshToken: $t) }", { t: refreshToken })
    : server.gql("mutation($t: String!, $e: Boolean!) { logout(refreshToken: $t, everywhere: $e) }", { t: refreshToken, e: everywhere });
}

/** Answers `me` with a token: the username, or the first error's code and message. */
export async function whoAmI(server: TestServer, token: string): Promise<string | { code: string; message: string }> {
  const response = await server.gql("{ me { username } }", {}, { token });
  const error = response.body.errors?.[0];
  if (error) return { code: error.extensions?.code, message: error.message };
  return response.body.data.me.username;
}

export interface FormResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** POSTs a body to /token as given, form-encoded unless `contentType` says otherwise. */
export function postToken(
  server: TestServer,
  body: string,
  options: { contentType?: string; headers?: Record<string, string>; method?: string } = {},
): Promise<FormResponse> {
  return postForm(server, "/token", body, options);
}

/**
 * Sends a body to one of the form endpoints (/token, /revoke, /introspect) as given, form-encoded
 * unless `contentType` says otherwise; `bearer` becomes `Authorization: Bearer <bearer>`. An empty
 * answer has an undefined body.
 */
export async function postForm(
  server: TestServer,
  path: string,
  body: string,
  options: { contentType?: string; headers?: Record<string, string>; method?: string; bearer?: string } = {},
): Promise<FormResponse> {
  const headers: Record<string, string> = {
    "content-type": options.contentType ?? "application/x-www-form-urlencoded",
    ...options.headers,
  };
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? "POST",
    headers,
    body: options.method === "GET" || options.method === "HEAD" ? undefined : body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}
