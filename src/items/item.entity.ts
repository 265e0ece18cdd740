/** Item: the FastAPI tutorial's example resource owned by a user. */
import { Field, ObjectType } from "type-graphql";

@ObjectType({ simpleResolvers: true })
export class Item {
  @Field(() => String)
  itemId!: string;

  @Field(() => String, { description: "The owner's username." })
  owner!: string;
}
