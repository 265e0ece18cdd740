/** AuthPayload: what login answers, shaped after the OAuth2 token response (RFC 6749 section 5.1). */
import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "A bearer token and what it grants.", simpleResolvers: true })
export class AuthPayload {
  @Field(() => String, { description: "The JWT to send as `Authorization: Bearer <accessToken>`." })
  accessToken!: string;

  @Field(() => String, { description: 'Always "bearer".' })
  tokenType!: string;

  @Field(() => Int, { description: "Seconds until the access token expires." })
  expiresIn!: number;

  @Field(() => String, { description: "The granted scopes, space-separated." })
  scope!: string;
}
