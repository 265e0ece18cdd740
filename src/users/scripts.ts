/** Mixed-script detection for usernames: UTS #39 section 5.1 (resolved script set) and the "highly restrictive" level of 5.2. */

/**
 * Every Script_Extensions value (short names, Unicode 16/17) except Common, Inherited and Unknown.
 * Listed once so a character's scripts can be told apart; the runtime's own Unicode data decides
 * which characters belong to each (`\p{Script_Extensions=…}` is native to JavaScript regexes).
 */
const SCRIPTS = [
  "Adlm",
  "Aghb",
  "Ahom",
  "Arab",
  "Armi",
  "Armn",
  "Avst",
  "Bali",
  "Bamu",
  "Bass",
  "Batk",
  "Beng",
  "Bhks",
  "Bopo",
  "Brah",
  "Brai",
  "Bugi",
  "Buhd",
  "Cakm",
  "Cans",
  "Cari",
  "Cham",
  "Cher",
  "Chrs",
  "Copt",
  "Cpmn",
  "Cprt",
  "Cyrl",
  "Deva",
  "Diak",
  "Dogr",
  "Dsrt",
  "Dupl",
  "Egyp",
  "Elba",
  "Elym",
  "Ethi",
  "Gara",
  "Geor",
  "Glag",
  "Gong",
  "Gonm",
  "Goth",
  "Gran",
  "Grek",
  "Gujr",
  "Gukh",
  "Guru",
  "Hang",
  "Hani",
  "Hano",
  "Hatr",
  "Hebr",
  "Hira",
  "Hluw",
  "Hmng",
  "Hmnp",
  "Hung",
  "Ital",
  "Java",
  "Kali",
  "Kana",
  "Kawi",
  "Khar",
  "Khmr",
  "Khoj",
  "Kits",
  "Knda",
  "Krai",
  "Kthi",
  "Lana",
  "Laoo",
  "Latn",
  "Lepc",
  "Limb",
  "Lina",
  "Linb",
  "Lisu",
  "Lyci",
  "Lydi",
  "Mahj",
  "Maka",
  "Mand",
  "Mani",
  "Marc",
  "Medf",
  "Mend",
  "Merc",
  "Mero",
  "Mlym",
  "Modi",
  "Mong",
  "Mroo",
  "Mtei",
  "Mult",
  "Mymr",
  "Nagm",
  "Nand",
  "Narb",
  "Nbat",
  "Newa",
  "Nkoo",
  "Nshu",
  "Ogam",
  "Olck",
  "Onao",
  "Orkh",
  "Orya",
  "Osge",
  "Osma",
  "Ougr",
  "Palm",
  "Pauc",
  "Perm",
  "Phag",
  "Phli",
  "Phlp",
  "Phnx",
  "Plrd",
  "Prti",
  "Rjng",
  "Rohg",
  "Runr",
  "Samr",
  "Sarb",
  "Saur",
  "Sgnw",
  "Shaw",
  "Shrd",
  "Sidd",
  "Sind",
  "Sinh",
  "Sogd",
  "Sogo",
  "Sora",
  "Soyo",
  "Sund",
  "Sunu",
  "Sylo",
  "Syrc",
  "Tagb",
  "Takr",
  "Tale",
  "Talu",
  "Taml",
  "Tang",
  "Tavt",
  "Telu",
  "Tfng",
  "Tglg",
  "Thaa",
  "Thai",
  "Tibt",
  "Tirh",
  "Tnsa",
  "Todr",
  "Toto",
  "Tutg",
  "Ugar",
  "Vaii",
  "Vith",
  "Wara",
  "Wcho",
  "Xpeo",
  "Xsux",
  "Yezi",
  "Yiii",
  "Zanb",
] as const;

const scriptTest = (names: readonly string[]) => new RegExp(`^[${names.map((s) => `\\p{Script_Extensions=${s}}`).join("")}]$`, "u");
/** Groups of 12 scripts, each with one test for the group and one per script: a character costs ~24 tests, not 170. */
const SCRIPT_GROUPS = Array.from({ length: Math.ceil(SCRIPTS.length / 12) }, (_, i) => SCRIPTS.slice(i * 12, i * 12 + 12)).map((names) => ({
  test: scriptTest(names),
  members: names.map((name) => [name, scriptTest([name])] as const),
}));
const ASCII = /^[\p{ASCII}]*$/u;
/** Common and Inherited characters (digits, `. _ @ + -`, combining marks) go with any script. */
const ANY_SCRIPT = /^[\p{Script_Extensions=Zyyy}\p{Script_Extensions=Zinh}]$/u;

/**
 * The covers accepted beside a single script: Latin with the scripts of Japanese, of Chinese with
 * Bopomofo, or of Korean (UTS #39 "highly restrictive"). CONTRACT section 15 allows no other mix:
 * UTS #39's moderately restrictive level would also let Latin join one other script such as
 * Armenian, whose `օ` and `ս` pass for Latin `o` and `u`, so that level is not used.
 */
const COVERS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latn", "Hani", "Hira", "Kana"]),
  new Set(["Latn", "Hani", "Bopo"]),
  new Set(["Latn", "Hani", "Hang"]),
];

/** The scripts of one character (undefined: any), augmented as UTS #39 5.1 says: Han also counts as Japanese, Korean and Chinese. */
function scriptsOf(char: string): ReadonlySet<string> | undefined {
  if (ANY_SCRIPT.test(char)) return undefined;
  const scripts = new Set<string>();
  for (const group of SCRIPT_GROUPS) {
    if (!group.test.test(char)) continue;
    for (const [name, test] of group.members) if (test.test(char)) scripts.add(name);
  }
  if (scripts.has("Hani")) scripts.add("Hanb").add("Jpan").add("Kore");
  if (scripts.has("Hira") || scripts.has("Kana")) scripts.add("Jpan");
  if (scripts.has("Hang")) scripts.add("Kore");
  if (scripts.has("Bopo")) scripts.add("Hanb");
  // A character of no known script (Unknown, or newer than this list) counts as a script of its own.
  if (scripts.size === 0) scripts.add(`U+${char.codePointAt(0)!.toString(16)}`);
  return scripts;
}

/**
 * The scripts a text is written in, for messages: the English name of each character's first
 * script (`Latin`, `Cyrillic`), in order of appearance. Common and Inherited characters are not named.
 */
export function scriptNames(text: string): string[] {
  const names = new Set<string>();
  for (const char of text) {
    const scripts = scriptsOf(char);
    const first = scripts && [...scripts][0];
    if (first) names.add(first);
  }
  const english = new Intl.DisplayNames("en", { type: "script", fallback: "code" });
  return [...names].map((code) => (code.startsWith("U+") ? code : (english.of(code) ?? code)));
}

/**
 * Whether `text` passes UTS #39's "highly restrictive" level: its resolved script set is not
 * empty (one script, counting Han with Hiragana and Katakana as Japanese, with Hangul as Korean),
 * or Latin is mixed only as COVERS allows (CJK). `јohndoe` (Cyrillic ј), `gοogle` (Greek ο) and a
 * Latin-Cyrillic-Armenian mix fail; `иван`, `用户名`, `user_42`, `tokyo東京` pass.
 */
export function isHighlyRestrictive(text: string): boolean {
  // ASCII is Latin letters and Common digits and punctuation: the usual username, decided at once.
  if (ASCII.test(text)) return true;
  const perChar = [...text].map(scriptsOf).filter((s): s is ReadonlySet<string> => s !== undefined);
  if (perChar.length === 0) return true;
  const resolved = perChar.reduce((acc, scripts) => new Set([...acc].filter((s) => scripts.has(s))));
  if (resolved.size > 0) return true;
  return COVERS.some((cover) => perChar.every((scripts) => [...scripts].some((s) => cover.has(s))));
}
