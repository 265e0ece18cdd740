/** Confusable skeletons (UTS #39 section 4) over Unicode's confusables.txt, as shipped by the unhomoglyph package. */
import unhomoglyph from "unhomoglyph";

/** Invisible characters (ZWJ, Hangul fillers, variation selectors…): UTS #39 drops them from a skeleton. */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * UTS #39 skeleton(X): NFD, drop default-ignorable code points, replace each character by its
 * prototype in confusables.txt, NFD again. Two strings with one skeleton look alike (`m` and `rn`,
 * Latin `o` and Greek `ο`). The result is for comparison only, never for display.
 */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize("NFD").replace(DEFAULT_IGNORABLE, "")).normalize("NFD");
}

/**
 * The look-alike key of a username: the skeleton of the lower-cased skeleton of its NFKC form.
 * Lower-casing between two skeletons makes it as case-blind as usernameKey without losing the
 * confusables that exist only in one case: `paypaI` (capital I) has the skeleton `paypal`, where
 * lower-casing first would give `paypai`. Stored in `users.skeleton_key` (unique), so the database
 * refuses a second account that looks like the first. A change of this function or of the
 * confusables data needs a migration that recomputes the column.
 */
export function skeletonKey(username: string): string {
  return skeleton(skeleton(username.normalize("NFKC").trim()).toLowerCase());
}
