/** AuthPayload: what login, refresh and changePassword answer, shaped after the OAuth2 token response (RFC 6749 section 5.1). */
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

  @Field(() => String, { description: "Opaque and single use: `refresh` spends it and returns a new pair." })
  refreshToken!: string;
}

/** The payload of a token pair, whichever use case issued it. */
export function toAuthPayload(pair: {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly refreshToken: string;
}): AuthPayload {
  return {
    accessToken: pair.accessToken,
    tokenType: "bearer",
    expiresIn: pair.expiresIn,
    scope: pair.scope,
    refreshToken: pair.refreshToken,
  };
}
