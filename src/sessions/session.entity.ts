/** The Session: one login, as its user sees it (CONTRACT section 9). */
import { Field, GraphQLISODateTime, ID, ObjectType } from "type-graphql";

@ObjectType({
  description: "One login: what a password started, with every refresh token rotated from it.",
  simpleResolvers: true,
})
export class Session {
  @Field(() => ID, { description: "A UUID; the `sid` claim of the session's access tokens." })
  id!: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { description: "The last login or refresh." })
  lastUsedAt!: Date;

  @Field(() => GraphQLISODateTime, { description: "The absolute end (REFRESH_TOKEN_EXPIRE_DAYS from the login)." })
  expiresAt!: Date;

  @Field(() => String, { nullable: true, description: "As sent at login, at most 512 characters kept." })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  clientAddress!: string | null;

  @Field(() => Boolean, { description: "The session of the token that asks." })
  current!: boolean;

  @Field(() => Boolean, { description: "Started with a second factor." })
  mfa!: boolean;
}
