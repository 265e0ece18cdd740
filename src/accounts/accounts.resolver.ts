/** GraphQL door to accounts: register, email verification, password reset (CONTRACT section 10). */
import { Args, ArgsType, Authorized, Ctx, Field, Mutation, Resolver } from "type-graphql";
import { User } from "../users/user.entity";
import { type Context } from "../users/viewer";
import { type AccountsDeps } from "./accounts-deps";
import { requestEmailVerification, verifyEmail } from "./email-verification";
import { requestPasswordReset, resetPassword } from "./password-reset";
import { register } from "./register";

@ArgsType()
class RegisterArgs {
  @Field(() => String)
  username!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: "8 to 1024 characters, not a common password." })
  password!: string;

  @Field(() => String, { nullable: true })
  fullName?: string | null;
}

@ArgsType()
class TokenArgs {
  @Field(() => String)
  token!: string;
}

@ArgsType()
class RequestPasswordResetArgs {
  @Field(() => String)
  email!: string;
}

@ArgsType()
class ResetPasswordArgs {
  @Field(() => String)
  token!: string;

  @Field(() => String, { description: "8 to 1024 characters, not a common password." })
  newPassword!: string;
}

@Resolver()
export class AccountsResolver {
  constructor(private readonly deps: AccountsDeps) {}

  @Mutation(() => User, {
    description: "REGISTRATION=open only; the address stays unverified until the mailed link is followed.",
  })
  register(@Args(() => RegisterArgs) args: RegisterArgs, @Ctx() ctx: Context): Promise<User> {
    return register(this.deps, { ...args, clientAddress: ctx.clientAddress, userAgent: ctx.userAgent });
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: "Valid token; mails a new verification link to the viewer's address. Always true.",
  })
  async requestEmailVerification(@Ctx() ctx: Context): Promise<boolean> {
    return requestEmailVerification(this.deps, (await ctx.viewer()).user, ctx.clientAddress);
  }

  @Mutation(() => Boolean, { description: 'Spends a verification token; BAD_USER_INPUT "Invalid or expired token".' })
  verifyEmail(@Args(() => TokenArgs) args: TokenArgs): Promise<boolean> {
    return verifyEmail(this.deps, args.token);
  }

  @Mutation(() => Boolean, {
    description: "Mails a reset link to every active account with that address. Always true.",
  })
  requestPasswordReset(@Args(() => RequestPasswordResetArgs) args: RequestPasswordResetArgs, @Ctx() ctx: Context): Promise<boolean> {
    return requestPasswordReset(this.deps, args.email, ctx.clientAddress);
  }

  @Mutation(() => Boolean, {
    description: 'Spends a reset token, sets the password, ends every session; BAD_USER_INPUT "Invalid or expired token".',
  })
  resetPassword(@Args(() => ResetPasswordArgs) args: ResetPasswordArgs): Promise<boolean> {
    return resetPassword(this.deps, args.token, args.newPassword);
  }
}
