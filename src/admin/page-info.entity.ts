/** PageInfo of CONTRACT section 12's connections: one GraphQL type, declared beside the audit log's connection. */
export { PageInfo } from "../audit/auth-event.entity";
