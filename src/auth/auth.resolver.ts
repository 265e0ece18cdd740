/** GraphQL door to authentication: login, refresh, logout, changePassword, and the token-only status query. */
import { Args, ArgsType, Authorized, Ctx, Field, Mutation, Query, Resolver } from "type-graphql";
import { AllowInactive } from "./auth-checker";
import { AuthPayload, toAuthPayload } from "./auth-payload.entity";
import { changePassword } from "./change-password";
import { type Context } from "../users/viewer";
import { login, type LoginDeps } from "./login";
import { logout, refresh } from "./refresh-tokens";

// Arguments are @ArgsType classes: their field order is the schema's, which parameter
// decorators do not guarantee.
@ArgsType()
class LoginArgs {
  @Field(() => String)
  username!: string;

  @Field(() => String)
  password!: string;

  @Field(() => [String], { nullable: true, description: "Scopes to grant; all of the account's when omitted." })
  scopes?: string[] | null;
}

@ArgsType()
class RefreshArgs {
  @Field(() => String)
  refreshToken!: string;
}

@ArgsType()
class LogoutArgs {
  @Field(() => String)
  refreshToken!: string;

  @Field(() => Boolean, {
    defaultValue: false,
    description: "Also end every other session of the user and every access token issued so far.",
  })
  everywhere!: boolean;
}

@ArgsType()
class ChangePasswordArgs {
  @Field(() => String)
  currentPassword!: string;

  @Field(() => String, { description: "8 to 1024 characters." })
  newPassword!: string;
}

export type AuthResolverDeps = LoginDeps;

@Resolver()
export class AuthResolver {
  constructor(private readonly deps: AuthResolverDeps) {}

  @Mutation(() => AuthPayload, { description: "Verifies a password and returns a bearer token and a refresh token." })
  async login(@Args(() => LoginArgs) args: LoginArgs, @Ctx() ctx: Context): Promise<AuthPayload> {
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent, signal: ctx.signal };
    return toAuthPayload(await login(this.deps, { ...args, ...client }));
  }

  @Mutation(() => AuthPayload, { description: "Rotates: the refresh token passed in is spent, and a new pair returned." })
  async refresh(@Args(() => RefreshArgs) args: RefreshArgs, @Ctx() ctx: Context): Promise<AuthPayload> {
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent };
    return toAuthPayload(await refresh(this.deps, args.refreshToken, undefined, client));
  }

  @Mutation(() => Boolean, {
    description: "Ends the session of the refresh token, its access tokens too; true when the token was live.",
  })
  logout(@Args(() => LogoutArgs) args: LogoutArgs, @Ctx() ctx: Context): Promise<boolean> {
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent };
    return logout(this.deps, args.refreshToken, args.everywhere, client);
  }

  @Authorized()
  @Mutation(() => AuthPayload, { description: "Needs a valid token and an active account; revokes every earlier token of the user." })
  async changePassword(@Args(() => ChangePasswordArgs) args: ChangePasswordArgs, @Ctx() ctx: Context): Promise<AuthPayload> {
    const viewer = await ctx.viewer();
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent, signal: ctx.signal };
    const caller = { userId: viewer.user.id, scopes: viewer.scopes };
    return toAuthPayload(await changePassword(this.deps, { ...caller, ...args, ...client }));
  }

  @Authorized()
  @AllowInactive()
  @Query(() => String, { description: 'Answers "ok" to any valid token, a disabled user\'s too.' })
  status(): string {
    return "ok";
  }
}
