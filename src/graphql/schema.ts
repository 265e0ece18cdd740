/** The GraphQL schema, built once per app from the resolver classes and their instances. */
import { type GraphQLSchema } from "graphql";
import { buildSchema, type ResolverData } from "type-graphql";
import { authChecker } from "../auth/auth-checker";
import { AuthResolver } from "../auth/auth.resolver";
import { ItemResolver } from "../items/item.resolver";
import { UserResolver } from "../users/user.resolver";

export const RESOLVER_CLASSES = [UserResolver, ItemResolver, AuthResolver] as const;

/** Resolver instances keyed by class; type-graphql asks this map instead of a DI framework. */
export type ResolverInstances = ReadonlyMap<Function, object>;

/**
 * Builds the schema. With no instances it still prints (`npm run schema`); resolving then fails.
 */
export function buildAppSchema(instances: ResolverInstances = new Map()): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVER_CLASSES,
    authChecker,
    validate: false,
    container: {
      get: (someClass: Function, _data: ResolverData<object>) => {
        const instance = instances.get(someClass);
        if (!instance) throw new Error(`No instance registered for resolver ${someClass.name}`);
        return instance;
      },
    },
  });
}
