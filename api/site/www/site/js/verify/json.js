// Strict JSON (RFC 8259) and its canonical form (RFC 8785), as specs/entries.md §2-§3
// require of an entry's bytes. The parser reports the spec's error kinds:
// malformed_json (step 4), then duplicate_key, float, integer_range (steps 5-7, the
// first in document order); canonicalize() gives the one byte string per value.

const MAX_SAFE = 2n ** 53n - 1n;

/** A JSON text refused; `kind` is one of specs/entries.md §3's kinds. */
export class JSONError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Parse `text` strictly. Objects have no prototype (so "__proto__" is an ordinary
 * key); integers are Numbers within ±(2^53 − 1). A grammar error wins over a
 * duplicate key, a float or an integer out of range, which are reported in
 * document order only if the whole text is JSON (specs/entries.md §3).
 */
export function parseStrict(text) {
  const p = new Parser(text);
  p.ws();
  const value = p.value();
  p.ws();
  if (p.i !== text.length) p.fail("unexpected text after the value");
  if (p.fault) throw p.fault;
  return value;
}

class Parser {
  constructor(text) {
    this.s = text;
    this.i = 0;
    this.fault = null;
    this.depth = 0;
  }

  fail(why) {
    throw new JSONError("malformed_json", `not JSON at character ${this.i}: ${why}`);
  }

  note(kind, message) {
    if (this.fault === null) this.fault = new JSONError(kind, message);
  }

  ws() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.i++;
    }
  }

  value() {
    const c = this.s[this.i];
    if (c === "{") return this.nested(() => this.object());
    if (c === "[") return this.nested(() => this.array());
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(c === undefined ? "unexpected end" : `unexpected ${JSON.stringify(c)}`);
  }

  nested(read) {
    if (++this.depth > 512) this.fail("nested too deeply");
    const v = read();
    this.depth--;
    return v;
  }

  object() {
    const out = Object.create(null);
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail("expected a member name");
      const key = this.string();
      this.ws();
      if (this.s[this.i++] !== ":") this.fail("expected ':'");
      this.ws();
      const v = this.value();
      if (Object.hasOwn(out, key)) this.note("duplicate_key", `member name ${JSON.stringify(key)} twice`);
      else out[key] = v;
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected ',' or '}'");
      this.ws();
    }
  }

  array() {
    const out = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected ',' or ']'");
      this.ws();
    }
  }

  string() {
    const s = this.s;
    let out = "";
    let start = ++this.i;
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated string");
      const c = s.charCodeAt(this.i);
      if (c === 0x22) break;
      if (c < 0x20) this.fail("control character in a string");
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      out += this.escape();
      start = this.i;
    }
    out += s.slice(start, this.i++);
    return out;
  }

  escape() {
    const s = this.s;
    const c = s[this.i + 1];
    const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
    if (c in simple) {
      this.i += 2;
      return simple[c];
    }
    if (c !== "u") this.fail("bad escape");
    const unit = this.hex4(this.i + 2);
    this.i += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("lone low surrogate escape");
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (s[this.i] !== "\\" || s[this.i + 1] !== "u") this.fail("lone high surrogate escape");
    const low = this.hex4(this.i + 2);
    if (low < 0xdc00 || low > 0xdfff) this.fail("lone high surrogate escape");
    this.i += 6;
    return String.fromCharCode(unit, low);
  }

  hex4(at) {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9A-Fa-f]{4}$/.test(h)) this.fail("bad \\u escape");
    return parseInt(h, 16);
  }

  number() {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) this.fail("bad number");
    const text = m[0];
    this.i += text.length;
    if (/^[0-9]/.test(this.s[this.i] ?? "")) this.fail("leading zero");
    if (m[1] !== undefined || m[2] !== undefined) {
      this.note("float", `a number with a fraction or an exponent: ${text}`);
      return Number(text);
    }
    const big = BigInt(text);
    if (big > MAX_SAFE || big < -MAX_SAFE) {
      this.note("integer_range", `an integer outside ±(2^53 − 1): ${text}`);
    }
    return Number(big);
  }
}

/** RFC 8785 serialisation of a value made of objects, arrays, strings, integers,
 * booleans and null (specs/entries.md §2: keys sorted by UTF-16 code units). */
export function canonicalize(value) {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new JSONError("float", `not an integer: ${value}`);
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  // Array.prototype.sort compares strings by UTF-16 code units, as RFC 8785 §3.2.3 says.
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
}

/** Is `v` a JSON object (as parseStrict makes them)? */
export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Is `v` an integer (a Number with no fraction; never a boolean)? */
export function isInt(v) {
  return typeof v === "number" && Number.isSafeInteger(v);
}
