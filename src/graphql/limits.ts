/** Query limits: aliases, depth and directives per operation as one validation rule; tokens at parse time. */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Tokens a document may have. The full introspection query (descriptions and all) has under 200;
 * `me { id id id ... }` ten thousand times, or a wall of directives, is refused while parsing,
 * before any validation rule runs.
 */
export const MAX_TOKENS = 2000;
/** Directives an operation may carry (graphql-armor's default); far above any real client's. */
export const MAX_DIRECTIVES = 50;

export interface QueryLimits {
  readonly maxAliases: number;
  readonly maxDepth: number;
  readonly maxDirectives: number;
}

interface Measure {
  aliases: number;
  depth: number;
  directives: number;
}

/** Introspection's own entry points: their subtrees count neither aliases nor depth. */
const INTROSPECTION_ROOTS = new Set(["__schema", "__type"]);

/**
 * A validation rule that measures each operation with the fragments it spreads expanded (each spread
 * counts again, so aliases hidden in fragments are found; each fragment is measured once, so a
 * fan-out of fragments costs nothing to measure) and reports every limit it exceeds.
 *
 * Depth counts nested fields (`{ me { id } }` is 2). Inside `__schema` and `__type` neither depth
 * nor aliases count, so Sandbox and schema tools keep working where introspection is on; the
 * introspection field itself still counts, so ten aliased `__schema` fields are ten aliases.
 * An alias of `__typename` is not counted: it selects no data. Directives count everywhere.
 */
export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const measured = new Map<string, Measure>();
    const inProgress = new Set<string>();

    const measureFragment = (fragment: FragmentDefinitionNode, introspection: boolean): Measure => {
      const key = `${introspection ? "i" : "d"}:${fragment.name.value}`;
      const known = measured.get(key);
      if (known) return known;
      // A cycle is NoFragmentCyclesRule's to report; here it simply adds nothing.
      if (inProgress.has(key)) return { aliases: 0, depth: 0, directives: 0 };
      inProgress.add(key);
      const result = measureSelections(fragment.selectionSet, introspection);
      inProgress.delete(key);
      result.directives += fragment.directives?.length ?? 0;
      measured.set(key, result);
      return result;
    };

    const measureSelections = (selectionSet: SelectionSetNode, introspection: boolean): Measure => {
      const total: Measure = { aliases: 0, depth: 0, directives: 0 };
      for (const selection of selectionSet.selections) {
        total.directives += selection.directives?.length ?? 0;
        let inner: Measure;
        let level = 0;
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          const entersIntrospection = introspection || INTROSPECTION_ROOTS.has(name);
          if (selection.alias && !introspection && name !== "__typename") total.aliases += 1;
          inner = selection.selectionSet
            ? measureSelections(selection.selectionSet, entersIntrospection)
            : { aliases: 0, depth: 0, directives: 0 };
          level = introspection ? 0 : 1;
          if (entersIntrospection) inner.depth = 0;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measureSelections(selection.selectionSet, introspection);
        } else {
          const fragment = context.getFragment(selection.name.value);
          inner = fragment ? measureFragment(fragment, introspection) : { aliases: 0, depth: 0, directives: 0 };
        }
        total.aliases += inner.aliases;
        total.directives += inner.directives;
        total.depth = Math.max(total.depth, level + inner.depth);
      }
      return total;
    };

    return {
      OperationDefinition(operation) {
        const measure = measureSelections(operation.selectionSet, false);
        measure.directives += operation.directives?.length ?? 0;
        const refuse = (message: string) => context.reportError(new GraphQLError(message, { nodes: [operation] }));
        if (measure.aliases > limits.maxAliases) {
          refuse(`Query has ${measure.aliases} aliases; at most ${limits.maxAliases} are allowed.`);
        }
        if (measure.depth > limits.maxDepth) {
          refuse(`Query is ${measure.depth} levels deep; at most ${limits.maxDepth} are allowed.`);
        }
        if (measure.directives > limits.maxDirectives) {
          refuse(`Query has ${measure.directives} directives; at most ${limits.maxDirectives} are allowed.`);
        }
        return false;
      },
    };
  };
}
