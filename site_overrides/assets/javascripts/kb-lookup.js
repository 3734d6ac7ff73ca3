/*
 * The home page's "Look up an error code" box: reads a code in any notation, finds its canonical
 * 0xXXXXXXXX form and opens the code's own page, or says the code is not in the knowledge base.
 * Needs window.KB_CODES from kb-codes.js (generated at build time); works from file://.
 *
 * canonical() follows build_kb.core.codes.parse_code rule for rule; a browser test runs every input of
 * tests/data/code-vectors.json (generated from the Python parser) through both and compares.
 */
(function () {
  "use strict";

  var MAX_INPUT = 200; // parse_code's _MAX_INPUT
  // Python's str.isspace() characters, so that trimming agrees with str.strip().
  var SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var WRAPPED = new RegExp("^[" + SPACE + "\"'`]*([\\s\\S]*?)[" + SPACE + "\"'`.,;:!?]*$");
  var STRIP = new RegExp("^[" + SPACE + "]+|[" + SPACE + "]+$", "g");
  var HEX_0X = /^0[xX]([0-9A-Fa-f]+)$/;
  var HEX_8 = /^[0-9A-Fa-f]{8}$/;
  var DECIMAL = /^(-?)([0-9]+)$/;
  var MACRO = new RegExp("^HRESULT_FROM_WIN32[" + SPACE + "]*\\([" + SPACE + "]*(0[xX][0-9A-Fa-f]+|[0-9]+)[" +
    SPACE + "]*\\)$", "i");
  var IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
  var KB_NUMBER = new RegExp("^[Kk][Bb][" + SPACE + "]*[0-9]+$");
  var SIGNED_MIN_MAGNITUDE = 1000000000;

  function hex(value) {
    return "0x" + (value >>> 0).toString(16).toUpperCase().padStart(8, "0");
  }

  function fromWin32(number) {
    return number <= 0 ? number : (0x80070000 | (number & 0xffff)) >>> 0;
  }

  // A decimal string's value; digits past 2^53 lose precision but stay far above every limit checked.
  function decimal(digits) {
    return Number(digits.replace(/^0+(?=\d)/, ""));
  }

  // Returns the canonical hex string, or null when the text is not a code.
  function canonical(text, names) {
    text = String(text);
    if (text.length > 4 * MAX_INPUT) { return null; }
    var unwrapped = WRAPPED.exec(text);
    var value = unwrapped ? unwrapped[1] : text.replace(STRIP, "");
    if (value.length > MAX_INPUT) { return null; }
    var match = HEX_0X.exec(value);
    if (match) {
      return match[1].length <= 8 ? hex(parseInt(match[1], 16)) : null;
    }
    if (HEX_8.test(value)) { return hex(parseInt(value, 16)); }
    match = DECIMAL.exec(value);
    if (match) {
      var magnitude = decimal(match[2]);
      if (match[1]) {
        return magnitude >= SIGNED_MIN_MAGNITUDE && magnitude <= 2147483648 ? hex(-magnitude) : null;
      }
      if (magnitude <= 0xffff) { return hex(fromWin32(magnitude)); }
      return magnitude <= 0xffffffff ? hex(magnitude) : null;
    }
    match = MACRO.exec(value);
    if (match) {
      var argument = /^0x/i.test(match[1]) ? parseInt(match[1].slice(2), 16) : decimal(match[1]);
      return argument <= 0xffff ? hex(fromWin32(argument)) : null;
    }
    if (KB_NUMBER.test(value) || !IDENTIFIER.test(value)) { return null; }
    var name = value.toUpperCase();
    if (name === "S_OK") { return hex(0); }
    return Object.prototype.hasOwnProperty.call(names, name) ? names[name] : null;
  }

  // What the box answers, as `kb lookup` does: a code, else a string the content says is printed for one.
  function lookup(text, data) {
    var code = canonical(text, data.names || {});
    var own = code !== null && Object.prototype.hasOwnProperty.call(data.codes, code);
    if (!own) {
      var literal = String(text).trim().replace(/^["'`]+|["'`]+$/g, "").toLowerCase();
      if (Object.prototype.hasOwnProperty.call(data.literals || {}, literal)) {
        code = data.literals[literal];
      }
    }
    return code;
  }

  function attach(form) {
    var data = window.KB_CODES || { codes: {}, names: {}, literals: {} };
    var input = form.querySelector("input");
    var output = form.querySelector("output");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = lookup(input.value, data);
      if (code === null) {
        output.textContent = "Not an error code. Try the search bar for words from the message.";
      } else if (Object.prototype.hasOwnProperty.call(data.codes, code)) {
        window.location.href = new URL(data.codes[code].url, document.baseURI).href;
      } else {
        output.textContent = code + " is not in this knowledge base.";
      }
    });
  }

  window.kbCanonicalCode = canonical;
  window.kbLookupCode = lookup;
  document.querySelectorAll("form[data-kb-lookup]").forEach(attach);
})();
