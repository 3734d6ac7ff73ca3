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

  function rewrite(query) {
    var known = window.KB_CODES;
    var canonical = window.kbCanonicalCode; // from kb-lookup.js, loaded with the page
    if (known && canonical) {
      var code = canonical(query, known.names || {});
      if (code && Object.prototype.hasOwnProperty.call(known.codes || {}, code)) {
        return code.slice(2);
      }
    }
    return query.replace(/(^|\s)[-\u2212](?=\d)/g, "$1");
  }

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
})();
