/** The User: the domain shape and its GraphQL type. It never carries a password hash. */
import { Field, ID, ObjectType } from "type-graphql";

// simpleResolvers: plain properties, read by graphql-js's default resolver instead of one
// type-graphql wraps for middlewares this type never has (a cost on every field of every request).
@ObjectType({ description: "An account. Its password hash never leaves the store.", simpleResolvers: true })
export class User {
  @Field(() => ID, { description: "Stable identifier (a UUID); the `sub` claim of its tokens." })
  id!: string;

  @Field(() => String)
  username!: string;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true })
  fullName!: string | null;

  @Field(() => Boolean, { description: "A disabled account cannot log in or use fields that need an active user." })
  disabled!: boolean;

  @Field(() => [String], { description: "The scopes this account may be granted." })
  scopes!: string[];

  @Field(() => Boolean, { description: "register: false until verified; users add / import: true unless stated." })
  emailVerified!: boolean;
}

/** What login needs beside the user: the stored hash, which stays inside the auth use cases. */
export interface UserCredentials {
  readonly user: User;
  readonly passwordHash: string | null;
  /** The version new access tokens carry (see auth/token-version.ts). */
  readonly tokenVersion: number;
}

/** The user as a token check needs it: the account and its current token version. */
export interface TokenSubject {
  readonly user: User;
  readonly tokenVersion: number;
}
