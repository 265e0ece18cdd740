/** Bench child: a plain Apollo Server 5 on Fastify 5, answering `me` and `myItems` with constants. */
import { ApolloServer } from "@apollo/server";
import fastifyApollo from "@as-integrations/fastify";
import Fastify from "fastify";

// The same types and field names as graphql-auth-server, so both answer the same query with a
// response of the same size; only authentication and the database are missing here.
const typeDefs = /* GraphQL */ `
  type User {
    id: ID!
    username: String!
    email: String
    fullName: String
    disabled: Boolean!
    scopes: [String!]!
  }
  type Item {
    itemId: String!
    owner: String!
  }
  type Query {
    me: User!
    myItems: [Item!]!
  }
`;

const ME = {
  id: "7d2b6a1e-4c1f-4a57-9b7e-3f0b7d9c2a11",
  username: "bench",
  email: "bench@example.com",
  fullName: "Bench User",
  disabled: false,
  scopes: ["me", "items"],
};

const resolvers = {
  Query: {
    me: () => ME,
    myItems: () => [{ itemId: "Foo", owner: ME.username }],
  },
};

async function main(): Promise<void> {
  // Fastify's defaults (no logger) and Apollo's defaults: what a plain server looks like.
  const fastify = Fastify();
  const apollo = new ApolloServer({ typeDefs, resolvers });
  await apollo.start();
  await fastify.register(fastifyApollo(apollo));
  // Forked by the runner: port 0 and the url by IPC. Started on its own (the pinned bench, or by
  // hand): PORT, and the url on stdout.
  const url = await fastify.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0) });
  if (process.send) process.send({ url });
  else process.stdout.write(`${url}\n`);
  process.on("SIGTERM", () => {
    void fastify
      .close()
      .then(() => apollo.stop())
      .then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: String(error) });
  process.stderr.write(`plain server: ${String(error)}\n`);
  process.exit(1);
});
