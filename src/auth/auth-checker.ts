/** The @Authorized check for every resolver: a valid token, every listed scope, an active user. */
import { type GraphQLResolveInfo } from "graphql";
import { Extensions, type AuthCheckerFn } from "type-graphql";
import { InactiveUser, InsufficientScope } from "../errors";
import { type Context } from "../users/viewer";

const ALLOW_INACTIVE = "allowInactive";

/**
 * Marks a field that needs a valid token but not an active user (`status`). Without it, every
 * `@Authorized` field refuses disabled accounts.
 */
export const AllowInactive = (): MethodDecorator & PropertyDecorator => Extensions({ auth: { [ALLOW_INACTIVE]: true } });

/**
 * `@Authorized("me", "items")` needs *every* listed scope (type-graphql's example checks *some*).
 * Throws our errors instead of returning false, whose built-in answer is "Access denied!".
 * An arrow function on purpose: type-graphql treats anything with a prototype as a class.
 */
export const authChecker: AuthCheckerFn<Context, string> = async ({ context, info }, requiredScopes) => {
  const viewer = await context.viewer();
  if (!requiredScopes.every((scope) => viewer.scopes.includes(scope))) throw new InsufficientScope(requiredScopes);
  if (viewer.user.disabled && !allowsInactive(info)) throw new InactiveUser();
  return true;
};

function allowsInactive(info: GraphQLResolveInfo): boolean {
  const field = info.parentType.getFields()[info.fieldName];
  const auth = field?.extensions?.auth as Record<string, unknown> | undefined;
  return auth?.[ALLOW_INACTIVE] === true;
}
