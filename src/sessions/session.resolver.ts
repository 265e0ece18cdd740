/** GraphQL door to the viewer's own sessions: mySessions, revokeSession, revokeOtherSessions. */
import { Args, ArgsType, Authorized, Ctx, Field, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { type Context } from "../users/viewer";
import { listSessions, revokeOtherSessions, revokeSession, type ManageSessionsDeps } from "./manage-sessions";
import { Session } from "./session.entity";

@ArgsType()
class RevokeSessionArgs {
  @Field(() => ID)
  id!: string;
}

export type SessionResolverDeps = ManageSessionsDeps;

@Resolver(() => Session)
export class SessionResolver {
  constructor(private readonly deps: SessionResolverDeps) {}

  @Authorized("me")
  @Query(() => [Session], {
    description: 'The viewer\'s live sessions, newest first. Needs scope "me" and an active account.',
  })
  async mySessions(@Ctx() ctx: Context): Promise<Session[]> {
    const viewer = await ctx.viewer();
    return listSessions(this.deps, viewer.user.id, viewer.sessionId);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: "Ends one of the viewer's own sessions; false for an unknown, foreign or ended id.",
  })
  async revokeSession(@Args(() => RevokeSessionArgs) args: RevokeSessionArgs, @Ctx() ctx: Context): Promise<boolean> {
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent };
    return revokeSession(this.deps, (await ctx.viewer()).user.id, args.id, client);
  }

  @Authorized()
  @Mutation(() => Int, { description: "Ends every session of the viewer but the current one; returns how many." })
  async revokeOtherSessions(@Ctx() ctx: Context): Promise<number> {
    const viewer = await ctx.viewer();
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent };
    return revokeOtherSessions(this.deps, viewer.user.id, viewer.sessionId, client);
  }
}
