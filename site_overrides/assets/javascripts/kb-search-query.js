/*
 * Lets the site search take error codes as people paste them.
 *
 * Material hands the typed text to lunr, where a leading "-" means "must not contain": searching for the
 * signed decimal form of a code, such as -1073418160, would then list every page except the right one.
 * This wraps Worker (loaded before Material's bundle, as a polyfill) and rewrites outgoing search queries:
 * a query that is one error code in any notation the knowledge base knows (HRESULT_FROM_WIN32(1605), a
 * symbolic name, a decimal) becomes its eight hex digits, which every page carrying the code contains;
 * otherwise a minus sign that starts a number is dropped, since the index splits on "-" anyway.
 */
(function () {
  "use strict";
  var QUERY_MESSAGE = 2; // Material's search worker protocol: { type: 2, data: "<query>" }
  var BaseWorker = window.Worker;
  if (!BaseWorker || BaseWorker.__kbQueryRewrite) {
    return;
  }

  // Tokens of pasted text that are codes as `extract_codes` finds them: 0x-hex, eight bare hex digits
  // starting 8..F, ten-digit decimals and HRESULT_FROM_WIN32(n). Short numbers in text are words.
  var CODE_TOKEN = /HRESULT_FROM_WIN32\s*\(\s*(?:0x[0-9a-f]{1,8}|\d{1,10})\s*\)|(?:^|[^\w.\\/{-])(0x[0-9a-f]{1,8}|[89a-f][0-9a-f]{7}|-?\d{10})(?![\w{}]|[.\\/-]\w)/gi;

  function failure(hex) {
    return parseInt(hex.slice(2, 3), 16) >= 8;
  }

  // The codes written in pasted text, in order: those the knowledge base has, and the other failures.
  function codesIn(query, known, canonical) {
    var found = { known: [], unknown: [] };
    var match;
    CODE_TOKEN.lastIndex = 0;
    while ((match = CODE_TOKEN.exec(query)) !== null) {
      var code = canonical(match[1] || match[0], known.names || {});
      if (code === null || !failure(code)) { continue; }
      var list = Object.prototype.hasOwnProperty.call(known.codes || {}, code) ? found.known : found.unknown;
      if (list.indexOf(code) < 0) { list.push(code); }
    }
    return found;
  }

  function rewrite(query) {
    var known = window.KB_CODES;
    var canonical = window.kbCanonicalCode; // from kb-lookup.js, loaded with the page
    if (known && canonical) {
      var code = canonical(query, known.names || {});
      if (code && Object.prototype.hasOwnProperty.call(known.codes || {}, code)) {
        return code.slice(2);
      }
      // A pasted message with a code the knowledge base has: that code's entries are the answer.
      var inText = codesIn(query, known, canonical);
      if (inText.known.length) {
        return inText.known.map(function (hex) { return hex.slice(2); }).join(" ");
      }
    }
    // "KB4528069" and "KB 4528069" search for the number alone: pages hold it as a word of its own, and a
    // lone "kb" would rank every page mentioning any KB article.
    return query.replace(/\b[kK][bB]\s?([0-9]{6,7})\b/g, "$1").replace(/(^|\s)[-\u2212](?=\d)/g, "$1");
  }

  // Says above the results when the query holds a failure code no entry carries: whatever the words find
  // is then a suggestion, not the answer.
  function notice(query) {
    var known = window.KB_CODES;
    var canonical = window.kbCanonicalCode;
    var results = document.querySelector(".md-search-result");
    if (!known || !canonical || !results) { return; }
    var box = results.querySelector(".kb-search-notice");
    if (!box) {
      box = document.createElement("p");
      box.className = "kb-search-notice";
      box.setAttribute("role", "status");
      results.insertBefore(box, results.firstChild);
    }
    var whole = canonical(query, known.names || {});
    var inText = codesIn(query, known, canonical);
    var unknown = inText.known.length ? [] : inText.unknown;
    if (whole && failure(whole) && !Object.prototype.hasOwnProperty.call(known.codes || {}, whole)) {
      unknown = [whole];
    }
    box.textContent = unknown.length
      ? unknown.join(", ") + " is not in this knowledge base; the results below only share words with the query."
      : "";
    box.hidden = !unknown.length;
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-md-component=search-query]")) {
      notice(target.value);
    }
  });

  function KbWorker(url, options) {
    var worker = new BaseWorker(url, options);
    var post = worker.postMessage.bind(worker);
    worker.postMessage = function (message, transfer) {
      if (message && message.type === QUERY_MESSAGE && typeof message.data === "string") {
        message = { type: message.type, data: rewrite(message.data) };
      }
      return transfer === undefined ? post(message) : post(message, transfer);
    };
    return worker;
  }
  KbWorker.prototype = BaseWorker.prototype;
  KbWorker.__kbQueryRewrite = true;
  window.Worker = KbWorker;
  window.kbRewriteSearchQuery = rewrite;
  window.kbSearchNotice = notice;
})();
