/** GraphQL door to the current user. */
import { Authorized, Ctx, Query, Resolver } from "type-graphql";
import { type Context } from "./viewer";
import { User } from "./user.entity";

@Resolver(() => User)
export class UserResolver {
  @Authorized("me")
  @Query(() => User, { description: 'The current user. Needs scope "me" and an active account.' })
  async me(@Ctx() ctx: Context): Promise<User> {
    return (await ctx.viewer()).user;
  }
}
