/** The GraphQL schema, built once per app from the resolver instances; their classes are derived from them. */
import { type GraphQLSchema } from "graphql";
import { buildSchema, type NonEmptyArray, type ResolverData } from "type-graphql";
import { type AccountsDeps } from "../accounts/accounts-deps";
import { AccountsResolver } from "../accounts/accounts.resolver";
import { AuditResolver, type AuditResolverDeps } from "../audit/audit.resolver";
import { AdminResolver, type AdminResolverDeps } from "../admin/admin.resolver";
import { authChecker } from "../auth/auth-checker";
import { AuthResolver, type AuthResolverDeps } from "../auth/auth.resolver";
import { invariant } from "../errors";
import { ItemResolver } from "../items/item.resolver";
import { MfaResolver, type MfaResolverDeps } from "../mfa/mfa.resolver";
import { SessionResolver, type SessionResolverDeps } from "../sessions/session.resolver";
import { UserResolver } from "../users/user.resolver";

/** What the resolvers are built from. */
export interface ResolverDeps {
  readonly auth: AuthResolverDeps;
  readonly sessions: SessionResolverDeps;
  readonly mfa: MfaResolverDeps;
  readonly audit: AuditResolverDeps;
  readonly accounts: AccountsDeps;
  readonly admin: AdminResolverDeps;
}

/**
 * Every resolver of the schema, one instance each. The one list: a new resolver class is one
 * instance added here, and the schema, the server and `npm run schema` all take it from here.
 */
export function appResolvers(deps: ResolverDeps): readonly object[] {
  return [
    new UserResolver(),
    new ItemResolver(),
    new AuthResolver(deps.auth),
    new SessionResolver(deps.sessions),
    new MfaResolver(deps.mfa),
    new AuditResolver(deps.audit),
    new AccountsResolver(deps.accounts),
    new AdminResolver(deps.admin),
  ];
}

/**
 * Dependencies for a schema that is only printed or inspected (`npm run schema`, tests of its
 * shape): resolving a field with them fails loudly instead of running against nothing.
 */
export function schemaOnlyDeps(): ResolverDeps {
  const absent = new Proxy(
    {} as AuthResolverDeps & SessionResolverDeps & MfaResolverDeps & AuditResolverDeps & AccountsDeps & AdminResolverDeps,
    {
      get: (_target, name) => {
        throw new Error(`This schema was built to be printed: it resolves nothing (asked for ${String(name)})`);
      },
    },
  );
  return { auth: absent, sessions: absent, mfa: absent, audit: absent, accounts: absent, admin: absent };
}

/** A resolver's class, as type-graphql's container is asked for it. */
type ResolverClass = abstract new (...args: never[]) => object;

/**
 * Builds the schema from resolver instances: type-graphql reads the decorators of their classes
 * and asks `container.get` for the instance of a class (a map, no DI framework).
 */
export async function buildAppSchema(resolvers: readonly object[]): Promise<GraphQLSchema> {
  const byClass = new Map<ResolverClass, object>(resolvers.map((instance) => [instance.constructor as ResolverClass, instance]));
  invariant(byClass.size === resolvers.length, "one instance per resolver class");
  const classes = [...byClass.keys()];
  invariant(classes.length > 0, "at least one resolver");
  return buildSchema({
    resolvers: classes as unknown as NonEmptyArray<ResolverClass>,
    authChecker,
    validate: false,
    container: {
      get: (someClass: ResolverClass, _data: ResolverData<object>) => {
        const instance = byClass.get(someClass);
        invariant(instance, `an instance registered for resolver ${someClass.name}`);
        return instance;
      },
    },
  });
}
