/** GraphQL door to authentication: the login mutation and the token-only status query. */
import { Args, ArgsType, Authorized, Ctx, Field, Mutation, Query, Resolver } from "type-graphql";
import { type Logger } from "../log";
import { type UserStore } from "../users/user.store";
import { AllowInactive } from "./auth-checker";
import { AuthPayload } from "./auth-payload.entity";
import { type Context } from "./context";
import { login } from "./login";
import { type PasswordService } from "./passwords";
import { type LoginLimiter } from "./rate-limit";
import { type TokenService } from "./tokens";

@ArgsType()
class LoginArgs {
  @Field(() => String)
  username!: string;

  @Field(() => String)
  password!: string;

  @Field(() => [String], { nullable: true, description: "Scopes to grant; all of the account's when omitted." })
  scopes?: string[] | null;
}

export interface AuthResolverDeps {
  readonly users: UserStore;
  readonly passwords: PasswordService;
  readonly tokens: TokenService;
  readonly limiter: LoginLimiter;
  readonly logger: Logger;
}

@Resolver()
export class AuthResolver {
  constructor(private readonly deps: AuthResolverDeps) {}

  @Mutation(() => AuthPayload, { description: "Verifies a password and returns a bearer token." })
  async login(@Args(() => LoginArgs) args: LoginArgs, @Ctx() ctx: Context): Promise<AuthPayload> {
    const issued = await login(this.deps, { ...args, clientAddress: ctx.clientAddress });
    return { accessToken: issued.accessToken, tokenType: "bearer", expiresIn: issued.expiresIn, scope: issued.scope };
  }

  @Authorized()
  @AllowInactive()
  @Query(() => String, { description: 'Answers "ok" to any valid token, a disabled user\'s too.' })
  status(): string {
    return "ok";
  }
}
