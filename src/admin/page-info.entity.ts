/**
 * PageInfo of CONTRACT section 12's connections. The audit log's connection (h17-audit) declares
 * the same type: at merge one declaration stays and the other file re-exports it.
 */
import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "Where a page of a connection ends.", simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "The cursor to pass as `after` for the next page." })
  endCursor!: string | null;
}
