/*
 * The home page's "Look up an error code" box: reads a code in any notation, finds its canonical
 * 0xXXXXXXXX form and opens the code's own page, or says the code is not in the knowledge base.
 * Needs window.KB_CODES from kb-codes.js (generated at build time); works from file://.
 */
(function () {
  "use strict";

  function hex(value) {
    return "0x" + (value >>> 0).toString(16).toUpperCase().padStart(8, "0");
  }

  function fromWin32(number) {
    return number === 0 ? 0 : (0x80070000 | (number & 0xffff)) >>> 0;
  }

  // Returns the canonical hex string, or null when the text is not a code.
  function canonical(text, names) {
    var value = String(text).trim().replace(/^["'`]+|["'`.,;]+$/g, "");
    var match = /^HRESULT_FROM_WIN32\s*\(\s*(0x[0-9a-f]+|\d+)\s*\)$/i.exec(value);
    if (match) {
      var n = Number(match[1]);
      return n <= 0xffff ? hex(fromWin32(n)) : null;
    }
    if (/^0x[0-9a-f]{1,8}$/i.test(value) || /^[0-9a-f]{8}$/i.test(value)) {
      return hex(parseInt(value.replace(/^0x/i, ""), 16));
    }
    if (/^-\d{1,10}$/.test(value)) {
      var signed = Number(value);
      return signed >= -2147483648 ? hex(signed) : null;
    }
    if (/^\d{1,10}$/.test(value)) {
      var number = Number(value);
      if (number <= 0xffff) { return hex(fromWin32(number)); }
      return number <= 0xffffffff ? hex(number) : null;
    }
    var name = value.toUpperCase();
    if (name === "S_OK") { return hex(0); }
    return Object.prototype.hasOwnProperty.call(names, name) ? names[name] : null;
  }

  function attach(form) {
    var data = window.KB_CODES || { codes: {}, names: {} };
    var input = form.querySelector("input");
    var output = form.querySelector("output");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = canonical(input.value, data.names);
      if (code === null) {
        output.textContent = "Not an error code. Try the search bar for words from the message.";
      } else if (Object.prototype.hasOwnProperty.call(data.codes, code)) {
        window.location.href = new URL("codes/" + code + ".html", document.baseURI).href;
      } else {
        output.textContent = code + " is not in this knowledge base.";
      }
    });
  }

  window.kbCanonicalCode = canonical;
  document.querySelectorAll("form[data-kb-lookup]").forEach(attach);
})();
