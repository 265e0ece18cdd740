/** The AuthEvent and its connection types, as CONTRACT section 12 prints them. */
import { Field, GraphQLISODateTime, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "Where a page of a connection ends.", simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "The cursor to pass as `after` for the next page." })
  endCursor!: string | null;
}

@ObjectType({
  description: "One security event of the audit log. Never a password, hash, token or code.",
  simpleResolvers: true,
})
export class AuthEvent {
  @Field(() => ID, { description: "A UUID; the `webhook-id` of its webhook delivery." })
  id!: string;

  @Field(() => String, { description: "One of the event types of the README's audit log section." })
  type!: string;

  @Field(() => GraphQLISODateTime)
  at!: Date;

  @Field(() => ID, {
    nullable: true,
    description: "The account concerned; null for a failed login of an unknown username.",
  })
  userId!: string | null;

  @Field(() => ID, { nullable: true })
  sessionId!: string | null;

  @Field(() => String, { nullable: true })
  clientAddress!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;
}

@ObjectType({ simpleResolvers: true })
export class AuthEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuthEvent)
  node!: AuthEvent;
}

@ObjectType({ simpleResolvers: true })
export class AuthEventConnection {
  @Field(() => [AuthEventEdge])
  edges!: AuthEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
