/** GraphQL door to the audit log: authEvents (scope admin) and myAuthEvents (the viewer's own). */
import { Args, ArgsType, Authorized, Ctx, Field, ID, Int, Query, Resolver } from "type-graphql";
import { AuthEventConnection } from "./auth-event.entity";
import { pageOfEvents, type ListEventsDeps } from "./list-events";

/**
 * The part of the request context this resolver reads. Declared here rather than imported from
 * users/viewer.ts: users/ records events, so audit/ sits below it and imports nothing of it.
 */
interface AuditContext {
  viewer(): Promise<{ readonly user: { readonly id: string } }>;
}

@ArgsType()
class AuthEventsArgs {
  @Field(() => Int, { defaultValue: 50, description: "1 to 100." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;
}

@ArgsType()
class MyAuthEventsArgs {
  @Field(() => Int, { defaultValue: 20, description: "1 to 100." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

export type AuditResolverDeps = ListEventsDeps;

@Resolver()
export class AuditResolver {
  constructor(private readonly deps: AuditResolverDeps) {}

  @Authorized("admin")
  @Query(() => AuthEventConnection, {
    description: 'Every audit event, newest first, optionally of one user or type. Needs scope "admin", an active account.',
  })
  authEvents(@Args(() => AuthEventsArgs) args: AuthEventsArgs): Promise<AuthEventConnection> {
    return pageOfEvents(this.deps, args);
  }

  @Authorized("me")
  @Query(() => AuthEventConnection, {
    description: 'The viewer\'s own audit events, newest first. Needs scope "me" and an active account.',
  })
  async myAuthEvents(@Args(() => MyAuthEventsArgs) args: MyAuthEventsArgs, @Ctx() ctx: AuditContext): Promise<AuthEventConnection> {
    const viewer = await ctx.viewer();
    return pageOfEvents(this.deps, { first: args.first, after: args.after, userId: viewer.user.id });
  }
}
