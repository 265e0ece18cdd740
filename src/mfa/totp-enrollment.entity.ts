/** TotpEnrollment: what enrollTotp answers (CONTRACT section 11). */
import { Field, ObjectType } from "type-graphql";

@ObjectType({
  description: "A pending TOTP enrolment: scan the QR code (or type the secret), then confirmTotp.",
  simpleResolvers: true,
})
export class TotpEnrollment {
  @Field(() => String, { description: "The shared secret, base32." })
  secret!: string;

  @Field(() => String, {
    description: "otpauth://totp/<issuer>:<username>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30",
  })
  otpauthUri!: string;

  @Field(() => String, { description: "The URI as an SVG QR code." })
  qrCodeSvg!: string;
}
