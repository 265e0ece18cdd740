/** GraphQL door to the current user's items. */
import { Authorized, Ctx, Query, Resolver } from "type-graphql";
import { type Context } from "../users/viewer";
import { Item } from "./item.entity";

@Resolver(() => Item)
export class ItemResolver {
  @Authorized("me", "items")
  @Query(() => [Item], { description: 'The current user\'s items. Needs scopes "me" and "items" and an active account.' })
  async myItems(@Ctx() ctx: Context): Promise<Item[]> {
    const { user } = await ctx.viewer();
    return [{ itemId: "Foo", owner: user.username }];
  }
}
