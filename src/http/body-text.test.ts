/** body-text: UTF-8 only, charsets, and forms parsed as URLSearchParams parses them. */
import fc from "fast-check";
import { bodyText, formPairs } from "./body-text";

describe("bodyText", () => {
  it("decodes UTF-8, declared or not", () => {
    const body = Buffer.from('{"p":"pässwörd 密码"}');
    expect(bodyText(body, undefined)).toBe('{"p":"pässwörd 密码"}');
    expect(bodyText(body, "application/json; charset=UTF-8")).toBe('{"p":"pässwörd 密码"}');
    expect(bodyText(body, 'application/json; charset="utf8"')).toBe('{"p":"pässwörd 密码"}');
  });

  it.each([[[0xff]], [[0xc3, 0x28]], [[0xed, 0xa0, 0x80]], [[0xe2, 0x82]]])("refuses the invalid sequence %j with 400", (bytes) => {
    expect(() => bodyText(Buffer.from([0x61, ...bytes]), "application/json")).toThrow(
      expect.objectContaining({ statusCode: 400, message: "The request body is not valid UTF-8" }),
    );
  });

  it.each([
    "application/json; charset=iso-8859-1",
    "application/x-www-form-urlencoded; charset=windows-1252",
    "application/json; charset=utf-16",
    "application/json; =",
  ])("refuses %s with 415", (contentType) => {
    expect(() => bodyText(Buffer.from("{}"), contentType)).toThrow(expect.objectContaining({ statusCode: 415 }));
  });
});

describe("formPairs", () => {
  it("parses every well-formed form as URLSearchParams does", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }))), (pairs) => {
        const text = new URLSearchParams(pairs).toString();
        expect(formPairs(text)).toEqual([...new URLSearchParams(text)]);
      }),
    );
  });

  it("reads raw text, stray % signs and empty sequences as URLSearchParams does", () => {
    for (const text of ["a=1&&b=2", "a", "=x", "a=%zz&b=%4", "a+b=c+d", "p=%E5%AF%86"])
      expect(formPairs(text)).toEqual([...new URLSearchParams(text)]);
  });

  it("refuses percent-escapes that decode to bytes that are not UTF-8, where URLSearchParams gives U+FFFD", () => {
    expect([...new URLSearchParams("password=%FF")]).toEqual([["password", "\uFFFD"]]);
    expect(() => formPairs("password=%FF")).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => formPairs("password=%C3%28")).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});
