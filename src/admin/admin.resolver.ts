/** GraphQL door to account administration (CONTRACT section 12): scope admin and an active account on every field. */
import { Args, ArgsType, Authorized, Ctx, Field, ID, InputType, Int, Mutation, Query, Resolver } from "type-graphql";
import { User } from "../users/user.entity";
import { type Context } from "../users/viewer";
import { pageOfUsers } from "./list-users";
import {
  resetAccountMfa,
  createAccount,
  deleteAccount,
  findUser,
  revokeAccountSessions,
  unlockAccount,
  updateAccount,
  type AdminDeps,
} from "./manage-users";
import { UserConnection } from "./user-connection.entity";

@ArgsType()
class UsersArgs {
  @Field(() => Int, { defaultValue: 20, description: "1 to 100." })
  first!: number;

  @Field(() => String, { nullable: true, description: "The endCursor of the page before." })
  after?: string | null;

  @Field(() => String, { nullable: true, description: "Part of the username or email, in any case." })
  search?: string | null;
}

@InputType()
class CreateUserInput {
  @Field(() => String)
  username!: string;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  fullName?: string | null;

  @Field(() => String, { nullable: true, description: "Without one, no usable password until a reset." })
  password?: string | null;

  @Field(() => [String], { nullable: true, description: "The scopes the account may hold; me items when omitted." })
  scopes?: string[] | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  disabled?: boolean | null;
}

@InputType()
class UpdateUserInput {
  @Field(() => String, { nullable: true, description: "null clears it." })
  email?: string | null;

  @Field(() => String, { nullable: true, description: "null clears it." })
  fullName?: string | null;

  @Field(() => [String], { nullable: true, description: "Replaces the scopes the account may hold." })
  scopes?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: "true ends the account's sessions for refreshing." })
  disabled?: boolean | null;
}

// Arguments are @ArgsType classes, as in auth.resolver.ts: their field order is the schema's.
@ArgsType()
class IdArgs {
  @Field(() => ID)
  id!: string;
}

@ArgsType()
class CreateUserArgs {
  @Field(() => CreateUserInput)
  input!: CreateUserInput;
}

@ArgsType()
class UpdateUserArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => UpdateUserInput)
  input!: UpdateUserInput;
}

export type AdminResolverDeps = AdminDeps;

const NEEDS_ADMIN = 'Needs scope "admin" and an active account.';

@Resolver()
export class AdminResolver {
  constructor(private readonly deps: AdminResolverDeps) {}

  @Authorized("admin")
  @Query(() => UserConnection, { description: `Users in username order, optionally searched. ${NEEDS_ADMIN}` })
  users(@Args(() => UsersArgs) args: UsersArgs): Promise<UserConnection> {
    return pageOfUsers(this.deps.users, args);
  }

  @Authorized("admin")
  @Query(() => User, { nullable: true, description: `The user with this id, or null. ${NEEDS_ADMIN}` })
  async user(@Args(() => IdArgs) args: IdArgs): Promise<User | null> {
    return (await findUser(this.deps, args.id)) ?? null;
  }

  @Authorized("admin")
  @Mutation(() => User, { description: `Creates a user by the rules of users add. ${NEEDS_ADMIN}` })
  createUser(@Args(() => CreateUserArgs) args: CreateUserArgs): Promise<User> {
    return createAccount(this.deps, args.input);
  }

  @Authorized("admin")
  @Mutation(() => User, { description: `Changes a user; disabling ends its sessions. ${NEEDS_ADMIN}` })
  async updateUser(@Args(() => UpdateUserArgs) args: UpdateUserArgs, @Ctx() ctx: Context): Promise<User> {
    return updateAccount(this.deps, (await ctx.viewer()).user.id, args.id, args.input);
  }

  @Authorized("admin")
  @Mutation(() => Boolean, { description: `Deletes a user; its tokens stop working. ${NEEDS_ADMIN}` })
  async deleteUser(@Args(() => IdArgs) args: IdArgs, @Ctx() ctx: Context): Promise<boolean> {
    await deleteAccount(this.deps, (await ctx.viewer()).user.id, args.id);
    return true;
  }

  @Authorized("admin")
  @Mutation(() => Int, { description: `Ends every session of a user; returns how many. ${NEEDS_ADMIN}` })
  revokeUserSessions(@Args(() => IdArgs) args: IdArgs): Promise<number> {
    return revokeAccountSessions(this.deps, args.id);
  }

  @Authorized("admin")
  @Mutation(() => Boolean, { description: `Turns two-factor authentication off (the device is lost). ${NEEDS_ADMIN}` })
  async resetUserMfa(@Args(() => IdArgs) args: IdArgs): Promise<boolean> {
    await resetAccountMfa(this.deps, args.id);
    return true;
  }

  @Authorized("admin")
  @Mutation(() => Boolean, { description: `Clears the username's failed-login count. ${NEEDS_ADMIN}` })
  async unlockUser(@Args(() => IdArgs) args: IdArgs): Promise<boolean> {
    await unlockAccount(this.deps, args.id);
    return true;
  }
}
