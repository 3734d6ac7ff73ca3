/*
 * The home page's "Look up an error code" box: reads a code in any notation, finds its canonical
 * 0xXXXXXXXX form and opens the code's own page; for a code the knowledge base has no entry for, it says so
 * and tells what Windows calls the code, from the offline error-code dictionary.
 * Needs window.KB_CODES from kb-codes.js (generated at build time); works from file://.
 *
 * The dictionary (kb-dictionary.js, about 1 MB, generated from build_kb/core/data/codes.tsv) is loaded only
 * when the box is first used: a <script> tag injected then defines window.KB_DICTIONARY (fetch() of a local
 * file is refused under file://). describe() derives the wrapped forms as build_kb.core.dictionary.describe
 * does, and the dictionary's names join the names canonical() reads.
 *
 * canonical() follows build_kb.core.codes.parse_code rule for rule; a browser test runs every input of
 * tests/data/code-vectors.json (generated from the Python parser) through both and compares. Answers are
 * written with textContent only, so no name or message can become markup.
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

  // --- the error-code dictionary --------------------------------------------------------------------------
  var DICTIONARY_SRC = (function () {
    var script = document.currentScript;
    return script && script.src ? new URL("kb-dictionary.js", script.src).href : null;
  })();
  var WIN32_SPACE = { win32: true, wininet: true, winhttp: true, ras: true };
  var NT_BIT = 0x10000000;
  var ESCAPES = { "\\": "\\", n: "\n", t: "\t" };
  var table = null;
  var loading = null;

  // The records of window.KB_DICTIONARY by value, and every name with the code value_of_name gives it.
  function readTable(raw) {
    var byValue = new Map();
    var names = Object.create(null);
    var nameRank = Object.create(null);
    raw.records.split("\n").forEach(function (line) {
      var field = line.split("\t");
      var rank = Number(field[1]);
      var record = {
        value: parseInt(field[0], 16),
        namespace: raw.namespaces[rank],
        label: raw.labels[rank],
        rank: rank,
        name: field[2],
        message: field[3] ? field[3].replace(/\\(.)/g, function (all, c) { return ESCAPES[c] || c; }) : null,
      };
      record.code = WIN32_SPACE[record.namespace] ? fromWin32(record.value) : record.value;
      if (!byValue.has(record.value)) { byValue.set(record.value, []); }
      byValue.get(record.value).push(record);
      var key = record.name.toUpperCase();
      if (!(key in nameRank) || rank < nameRank[key]) {
        nameRank[key] = rank;
        names[key] = hex(record.code);
      }
    });
    return { byValue: byValue, names: names, attribution: raw.attribution };
  }

  function at(value) {
    return table.byValue.get(value >>> 0) || [];
  }

  function ordered(records, win32First) {
    return records.slice().sort(function (a, b) {
      var first = (win32First && WIN32_SPACE[a.namespace] ? 0 : 1) - (win32First && WIN32_SPACE[b.namespace] ? 0 : 1);
      return first || a.rank - b.rank;
    });
  }

  function inSpace(space) {
    return function (record) { return space[record.namespace] === true; };
  }

  // Every known name of a 32-bit code, in the order build_kb.core.dictionary.describe lists them.
  function describe(value) {
    value = value >>> 0;
    var found = ordered(at(value), value <= 0xffff);
    var high = (value & 0xffff0000) >>> 0;
    var low = value & 0xffff;
    if ((high === 0x80070000 || high === 0xc0070000) && low) {
      found = found.concat(ordered(at(low).filter(inSpace(WIN32_SPACE)), true));
    }
    if (value & NT_BIT) {
      found = found.concat(at((value & ~NT_BIT) >>> 0).filter(inSpace({ ntstatus: true })));
    }
    if (high === 0x800f0000) {
      found = found.concat(at((0xe0000000 | low) >>> 0).filter(inSpace({ setupapi: true })));
    } else if (high === 0xe0000000) {
      found = found.concat(at((0x800f0000 | low) >>> 0).filter(inSpace({ hresult: true })));
    }
    var seen = Object.create(null);
    return found.filter(function (record) {
      var key = [record.value, record.namespace, record.name, record.message].join("\t");
      if (key in seen) { return false; }
      seen[key] = true;
      return true;
    });
  }

  // Resolves with the table once kb-dictionary.js has run, or with null if it cannot be loaded.
  function loadDictionary() {
    if (table === null && window.KB_DICTIONARY) { table = readTable(window.KB_DICTIONARY); }
    if (table !== null) { return Promise.resolve(table); }
    if (loading === null) {
      loading = new Promise(function (resolve) {
        if (!DICTIONARY_SRC) { resolve(null); return; }
        var script = document.createElement("script");
        script.src = DICTIONARY_SRC;
        script.onload = function () {
          table = window.KB_DICTIONARY ? readTable(window.KB_DICTIONARY) : null;
          resolve(table);
        };
        // Not retried: a file missing from a copied site stays missing until the page is opened again.
        script.onerror = function () { resolve(null); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  // --- the box ----------------------------------------------------------------------------------------------
  function own(data, code) {
    return code !== null && Object.prototype.hasOwnProperty.call(data.codes, code);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function signed(value) {
    return value > 0x7fffffff ? value - 0x100000000 : value;
  }

  // What the box says of a code no entry carries: its notations, what the dictionary knows, related entries.
  function answer(output, code, data, known) {
    var value = parseInt(code.slice(2), 16);
    output.replaceChildren();
    var related = (data.related || {})[code] || [];
    var head = element("span", "kb-lookup-line");
    // A code an entry lists as having the same fix is covered, as `kb lookup` says: only without one is
    // the code not in the knowledge base.
    head.append(element("code", "", code), related.length
      ? " has no entry of its own, but entries list it as having the same cause and fix."
      : " is not in this knowledge base.");
    output.append(head);
    var forms = "Decimal " + signed(value) + " (signed), " + value + " (unsigned)";
    if ((value & 0xffff0000) >>> 0 === 0x80070000 && (value & 0xffff)) {
      forms += "; HRESULT_FROM_WIN32(" + (value & 0xffff) + ")";
    }
    output.append(element("span", "kb-lookup-line kb-lookup-forms", forms + "."));
    if (related.length) {
      var line = element("span", "kb-lookup-line", "Entries with the same fix: ");
      related.forEach(function (entry, index) {
        var anchor = element("a", "", entry.title);
        anchor.href = new URL(entry.url, document.baseURI).href;
        line.append(index ? ", " : "", anchor);
      });
      output.append(line);
    }
    if (known === null) {
      output.append(element("span", "kb-lookup-line", "The error-code dictionary could not be loaded."));
      return;
    }
    var records = describe(value);
    if (!records.length) {
      output.append(element("span", "kb-lookup-line", "No Windows error of this value is known."));
      return;
    }
    var list = element("span", "kb-lookup-known");
    records.forEach(function (record) {
      var item = element("span", "kb-lookup-line");
      // As build_kb.core.codeview.known_label says it: Win32 error 5, NTSTATUS 0xC0000022.
      var where = record.label;
      if (record.value !== record.code) {
        where += " error " + record.value;
      } else if (record.value !== value) {
        where += " " + hex(record.value);
      }
      item.append(element("code", "kb-lookup-name", record.name), " (" + where + ")");
      if (record.message) {
        item.append(": ", element("span", "kb-lookup-message", record.message));
      }
      list.append(item);
    });
    output.append(list, element("small", "kb-attribution", known.attribution));
  }

  function attach(form) {
    var data = window.KB_CODES || { codes: {}, names: {}, literals: {}, related: {} };
    var input = form.querySelector("input");
    var output = form.querySelector("output");
    function open(code) {
      window.location.href = new URL(data.codes[code].url, document.baseURI).href;
    }
    // Using the box starts loading the dictionary, so the answer is ready by the time the code is typed.
    input.addEventListener("focus", function () { loadDictionary(); }, { once: true });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      var code = lookup(text, data);
      if (own(data, code)) { open(code); return; }
      output.textContent = "Looking the code up…";
      loadDictionary().then(function (known) {
        if (known !== null) {
          // The dictionary's names too, the knowledge base's first: ERROR_INTERNET_TIMEOUT, crypt_e_not_found.
          var names = Object.assign(Object.create(null), known.names, data.names);
          code = lookup(text, { codes: data.codes, names: names, literals: data.literals });
        }
        if (own(data, code)) {
          open(code);
        } else if (code === null) {
          output.textContent = "Not an error code. Try the search bar for words from the message.";
        } else {
          answer(output, code, data, known);
        }
      });
    });
  }

  window.kbCanonicalCode = canonical;
  window.kbLookupCode = lookup;
  window.kbLoadDictionary = loadDictionary;
  window.kbDescribeCode = function (value) {
    return table === null ? null : describe(value).map(function (r) {
      return { value: r.value, namespace: r.namespace, name: r.name, message: r.message };
    });
  };
  document.querySelectorAll("form[data-kb-lookup]").forEach(attach);
})();
