/** The admin's page of users: UserConnection, UserEdge (CONTRACT section 12). */
import { Field, Int, ObjectType } from "type-graphql";
import { User } from "../users/user.entity";
import { PageInfo } from "./page-info.entity";

@ObjectType({ simpleResolvers: true })
export class UserEdge {
  @Field(() => String, { description: "Opaque: pass it as `after` to start the next page after this user." })
  cursor!: string;

  @Field(() => User)
  node!: User;
}

@ObjectType({ description: "Users in username order (compared case-insensitively).", simpleResolvers: true })
export class UserConnection {
  @Field(() => [UserEdge])
  edges!: UserEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: "How many users match the search, on every page." })
  totalCount!: number;
}
