/** GraphQL door to two-factor authentication: enrol, confirm, disable, recovery codes, verifyMfa, User.mfaEnabled. */
import { Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { AuthPayload, toAuthPayload } from "../auth/auth-payload.entity";
import { User } from "../users/user.entity";
import { type Context } from "../users/viewer";
import { confirmTotp, disableTotp, enrollTotp, regenerateRecoveryCodes } from "./enrolment";
import { type MfaDeps } from "./mfa-deps";
import { verifyMfa } from "./second-step";
import { TotpEnrollment } from "./totp-enrollment.entity";

@ArgsType()
class CodeArgs {
  @Field(() => String, { description: "The six-digit code the authenticator app shows now." })
  code!: string;
}

@ArgsType()
class PasswordArgs {
  @Field(() => String, { description: "The account's current password." })
  password!: string;
}

@ArgsType()
class VerifyMfaArgs {
  @Field(() => String, { description: "extensions.mfaToken of login's MFA_REQUIRED error." })
  mfaToken!: string;

  @Field(() => String, { description: "A current TOTP code, or an unused recovery code (xxxxx-xxxxx)." })
  code!: string;
}

export type MfaResolverDeps = MfaDeps;

@Resolver(() => User)
export class MfaResolver {
  constructor(private readonly deps: MfaResolverDeps) {}

  @FieldResolver(() => Boolean, { description: "Two-factor authentication (TOTP) is on." })
  mfaEnabled(@Root() user: User): Promise<boolean> {
    return this.deps.mfa.isEnabled(user.id);
  }

  @Authorized()
  @Mutation(() => TotpEnrollment, {
    description: "Starts a TOTP enrolment, replacing an unconfirmed one; off until confirmTotp.",
  })
  async enrollTotp(@Ctx() ctx: Context): Promise<TotpEnrollment> {
    return enrollTotp(this.deps, (await ctx.viewer()).user);
  }

  @Authorized()
  @Mutation(() => [String], { description: "Turns two-factor on; returns 10 recovery codes, shown this once." })
  async confirmTotp(@Args(() => CodeArgs) args: CodeArgs, @Ctx() ctx: Context): Promise<string[]> {
    return confirmTotp(this.deps, (await ctx.viewer()).user.id, args.code);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: "Turns two-factor off; false when it was off. A wrong password counts as a failed login.",
  })
  async disableTotp(@Args(() => PasswordArgs) args: PasswordArgs, @Ctx() ctx: Context): Promise<boolean> {
    return disableTotp(this.deps, await passwordCheck(ctx, args.password));
  }

  @Authorized()
  @Mutation(() => [String], {
    description: "10 new recovery codes; the old ones die. A wrong password counts as a failed login.",
  })
  async regenerateRecoveryCodes(@Args(() => PasswordArgs) args: PasswordArgs, @Ctx() ctx: Context): Promise<string[]> {
    return regenerateRecoveryCodes(this.deps, await passwordCheck(ctx, args.password));
  }

  @Mutation(() => AuthPayload, {
    description: "Finishes a two-factor login: login's mfaToken with a TOTP or recovery code.",
  })
  async verifyMfa(@Args(() => VerifyMfaArgs) args: VerifyMfaArgs, @Ctx() ctx: Context): Promise<AuthPayload> {
    const client = { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent };
    return toAuthPayload(await verifyMfa(this.deps, { ...args, ...client }));
  }
}

async function passwordCheck(ctx: Context, password: string) {
  const viewer = await ctx.viewer();
  return { userId: viewer.user.id, password, clientAddress: ctx.clientAddress, signal: ctx.signal };
}
