/*
 * The site's search engine: answers Material's search worker from the index `kb build` prebuilt.
 *
 * Material for MkDocs downloads its whole search index (16 MB at 5,000 entries) and builds a lunr index from
 * it in the browser, which takes seconds; from file:// that work runs on the page's own thread. Loaded as a
 * polyfill before Material's bundle, this script takes the place of Material's search worker (same messages:
 * SETUP, READY, QUERY, RESULT) and searches the files build_kb/site/search_data.py writes under search/kb/,
 * loading them as <script> elements (fetch() of a local file is refused under file://):
 *
 *   manifest.js  the settings, where pages start, document boosts, which shard holds which terms and documents
 *   t<N>.js      term shards: each term's lunr term index and, per field, its documents and frequencies
 *   d<N>.js      document shards: location, title, text (and tags) of the documents shown in the results
 *   lunr.js      lunr 2.3.9, for its query parser and token sets
 *
 * A query loads the manifest and lunr.js once, then only the term shards its terms can match and the
 * document shards of the results on screen. The ranking is Material's: the query goes through Material's
 * query transformation and lunr's parser, terms expand through lunr's token sets, and scores are lunr's
 * (BM25 with b = 0 as Material configures it, computed from the term frequencies in the same order of
 * floating-point operations), with Material's boosts, sorting and grouping on top. The functions marked
 * "Material" below are ports of mkdocs-material 9.8's search code (MIT, (c) 2016-2025 Martin Donath).
 *
 * The work runs on the page's thread in slices of at most SLICE_MS, so that no task blocks typing; a query
 * overtaken by a newer key while it waits for files or between two slices is dropped, and only the newest
 * query's results are delivered. The documents of the first ten pages of results (what Material renders
 * at once) are loaded and marked before delivery; the others are read when Material renders them, as the
 * reader scrolls, their shards fetched a few pages ahead. Two departures from Material, neither touching
 * the ranking: a result's text is cut to TEASER characters around its first match (Material shows whole
 * blocks, hundreds of kilobytes for a page listing thousands of entries), and matches are marked in one
 * pass (Material's marking is quadratic in the number of matches in a block).
 *
 * Over http, Material's bundle fetches search/search_index.json at every page load; that request is sent
 * to search/kb/index.json instead (the settings, no documents), as search_index.js is for file://. Where
 * the manifest says the index could not be prebuilt, index.json is the whole index and every message goes
 * to Material's own worker. Written for this project; no network access.
 */
(function () {
  "use strict";
  if (window.__kbSearchEngine) { return; }
  var script = document.currentScript;
  var BaseWorker = window.Worker;
  if (!script || !script.src || !BaseWorker) { return; }
  window.__kbSearchEngine = true;

  var DATA = new URL("../../search/kb/", script.src).href;
  var SEARCH_INDEX = new URL("../../search/search_index.json", script.src).href;
  var WORKER = /\/workers\/search\.[^/]*\.js$/;
  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3; // Material's SearchMessageType
  var FIRST_GROUPS = 10; // Material renders the first ten results at once, then four at a time on scrolling
  var AHEAD = 8; // results whose documents are fetched ahead of Material's rendering (two scrolls)
  var K1 = 1.2; // lunr's k1; Material sets b to 0, which leaves the field's length out of lunr's BM25
  var SLICE_MS = 30; // work between two pauses, so that typing and rendering never wait long
  var TEASER = 10000; // characters of a result's text kept around its first match (Material keeps whole blocks)
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var DIGIT = new Int8Array(128).fill(-1);
  for (var a = 0; a < ALPHABET.length; a++) { DIGIT[ALPHABET.charCodeAt(a)] = a; }

  // --- Material fetches search_index.json over http at every page load: the settings are all it needs ----
  if (window.location.protocol !== "file:" && window.XMLHttpRequest) {
    var open = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (method, url) {
      try {
        if (url !== undefined && new URL(String(url), document.baseURI).href === SEARCH_INDEX) {
          arguments[1] = DATA + "index.json";
        }
      } catch (error) { /* not a URL: leave it to open() */ }
      return open.apply(this, arguments);
    };
  }

  // --- loading -------------------------------------------------------------------------------------------------
  var waiting = Object.create(null);
  var loaded = Object.create(null);

  window.__kbSearchData = function (name, build, payload) {
    var entry = waiting[name];
    if (entry) { entry.payload = payload; entry.build = build; }
  };

  function appendScript(src, done) {
    var element = document.createElement("script");
    element.src = src;
    element.async = true;
    element.onload = function () { element.remove(); done(null); };
    element.onerror = function () { element.remove(); done(new Error("cannot load " + src)); };
    document.head.appendChild(element);
  }

  // Resolves with the payload of search/kb/<name>.js, checking that it belongs to the same build.
  function data(name, build) {
    if (!loaded[name]) {
      loaded[name] = new Promise(function (resolve, reject) {
        var entry = waiting[name] = {};
        var src = DATA + name + ".js" + (build ? "?v=" + build : "");
        appendScript(src, function (error) {
          delete waiting[name];
          if (error || entry.payload === undefined) {
            delete loaded[name];
            reject(error || new Error("no search data in " + src));
          } else if (build && entry.build !== build) {
            delete loaded[name];
            reject(new Error("search data of another build in " + src + "; reload the page"));
          } else {
            resolve(entry.payload);
          }
        });
      });
    }
    return loaded[name];
  }

  var lunrLoaded = null;
  function loadLunr() {
    if (!lunrLoaded) {
      lunrLoaded = window.lunr ? Promise.resolve(window.lunr) : new Promise(function (resolve, reject) {
        appendScript(DATA + "lunr.js", function (error) {
          if (error || !window.lunr) { lunrLoaded = null; reject(error || new Error("lunr.js defined nothing")); }
          else { resolve(window.lunr); }
        });
      });
    }
    return lunrLoaded;
  }

  // --- numbers encoded by search_data.encode_numbers / encode_postings ---------------------------------------
  function decodeNumbers(text) {
    var out = [], value = 0, shift = 0, previous = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = DIGIT[text.charCodeAt(i)];
      value += (digit & 31) * Math.pow(2, shift);
      if (digit & 32) { shift += 5; continue; }
      previous += value;
      out.push(previous);
      value = 0;
      shift = 0;
    }
    return out;
  }

  // A field's postings: documents (ascending) and frequencies, from `from` to `to` in `text`.
  function decodePostings(text, from, to) {
    var docs = [], tfs = [], value = 0, shift = 0, previous = -1, wantTf = false;
    for (var i = from; i < to; i++) {
      var digit = DIGIT[text.charCodeAt(i)];
      value += (digit & 31) * Math.pow(2, shift);
      if (digit & 32) { shift += 5; continue; }
      if (wantTf) {
        tfs[tfs.length - 1] = value + 2;
        wantTf = false;
      } else {
        previous += Math.floor(value / 2) + 1;
        docs.push(previous);
        tfs.push(1);
        wantTf = (value & 1) === 1;
      }
      value = 0;
      shift = 0;
    }
    return { docs: docs, tfs: tfs };
  }

  // --- Material: tokenizer, highlighter and query transformation ----------------------------------------------
  function extract(input, fn) {
    var block = 0, start = 0, end = 0;
    for (var stack = 0; end < input.length; end++) {
      if (input.charAt(end) === "<" && end > start) {
        fn(block, 1, start, start = end);
      } else if (input.charAt(end) === ">") {
        if (input.charAt(start + 1) === "/") {
          if (--stack === 0) { fn(block++, 2, start, end + 1); }
        } else if (input.charAt(end - 1) !== "/") {
          if (stack++ === 0) { fn(block, 0, start, end + 1); }
        }
        start = end + 1;
      }
    }
    if (end > start) { fn(block, 1, start, end); }
  }

  function split(input, separator, fn) {
    separator = new RegExp(separator, "g");
    var match, index = 0;
    do {
      match = separator.exec(input);
      var until = match ? match.index : input.length;
      if (index < until) { fn(index, until); }
      if (match) {
        var term = match[0];
        index = match.index + term.length;
        if (term.length === 0) { separator.lastIndex = match.index + 1; }
      }
    } while (match);
  }

  function tokenize(lunr, input) {
    var tokens = [];
    if (typeof input === "undefined") { return tokens; }
    var inputs = Array.isArray(input) ? input : [input];
    for (var i = 0; i < inputs.length; i++) {
      var table = lunr.tokenizer.table;
      var total = table.length;
      extract(inputs[i], function (block, type, start, end) {
        block += total;
        table[block] = table[block] || [];
        if (type !== 1) {
          table[block].push(start << 12 | end - start << 2 | type);
          return;
        }
        var section = inputs[i].slice(start, end);
        split(section, lunr.tokenizer.separator, function (index, until) {
          table[block].push(start + index << 12 | until - index << 2 | type);
          tokens.push(new lunr.Token(section.slice(index, until).toLowerCase(), {
            position: block << 20 | table[block].length - 1,
          }));
        });
      });
    }
    return tokens;
  }

  function highlightAll(inputs, table, positions, full) {
    var mapping = [0];
    for (var t = 1; t < table.length; t++) {
      var prev = table[t - 1], next = table[t];
      var p = prev[prev.length - 1] >>> 2 & 0x3FF;
      var q = next[0] >>> 12;
      mapping.push(+(p > q) + mapping[mapping.length - 1]);
    }
    return inputs.map(function (input, i) {
      var cursor = 0;
      var blocks = new Map();
      positions.sort(function (x, y) { return x - y; }).forEach(function (position) {
        var index = position & 0xFFFFF, block = position >>> 20;
        if (mapping[block] !== i) { return; }
        var group = blocks.get(block);
        if (typeof group === "undefined") { blocks.set(block, group = []); }
        group.push(index);
      });
      if (blocks.size === 0) { return input; }
      var slices = [];
      for (var entry of blocks) {
        var block = entry[0], indexes = entry[1], t = table[block];
        var start = t[0] >>> 12, end = t[t.length - 1] >>> 12, length = t[t.length - 1] >>> 2 & 0x3FF;
        if (full && start > cursor) { slices.push(input.slice(cursor, start)); }
        var slice = input.slice(start, end + length);
        // Material inserts the marks one by one from the last, copying the slice each time; joining the pieces
        // in one pass gives the same string without the quadratic cost (thousands of marks in a long list).
        var pieces = [], done = 0;
        indexes.sort(function (x, y) { return x - y; }).forEach(function (j) {
          var p = (t[j] >>> 12) - start;
          var q = (t[j] >>> 2 & 0x3FF) + p;
          pieces.push(slice.slice(done, p), "<mark>", slice.slice(p, q), "</mark>");
          done = q;
        });
        pieces.push(slice.slice(done));
        slice = pieces.join("");
        cursor = end + length;
        if (slices.push(slice) === 2) { break; }
      }
      if (full && cursor < input.length) { slices.push(input.slice(cursor)); }
      return slices.join("");
    });
  }

  function highlight(input, table, positions, full) {
    return highlightAll([input], table, positions, full).pop();
  }

  function transform(query, fn) {
    return query
      .trim()
      .split(/"([^"]+)"/g)
      .map(function (parts, index) {
        return index & 1 ? parts.replace(/^\b|^(?![^\x00-\x7F]|$)|\s+/g, " +") : parts;
      })
      .join("")
      .replace(/"|(?:^|\s+)[*+\-:^~]+(?=\s+|$)/g, "")
      .split(/\s+/g)
      .reduce(function (prev, term) {
        var next = fn(term);
        return prev.concat(Array.isArray(next) ? next : [next]);
      }, [])
      .map(function (term) { return /([~^]$)/.test(term) ? term + "1" : term; })
      .map(function (term) { return /(^[+-]|[~^]\d+$)/.test(term) ? term : term + "*"; })
      .join(" ");
  }

  function transformSearchQuery(lunr, query) {
    return transform(query, function (part) {
      var terms = [];
      var lexer = new lunr.QueryLexer(part);
      lexer.run();
      lexer.lexemes.forEach(function (lexeme) {
        var type = lexeme.type, term = lexeme.str, start = lexeme.start, end = lexeme.end;
        if (type === "FIELD") {
          if (["title", "text", "tags"].indexOf(term) < 0) {
            part = [part.slice(0, end), " ", part.slice(end + 1)].join("");
          }
        } else if (type === "TERM") {
          split(term, lunr.tokenizer.separator, function (from, to) {
            terms.push([part.slice(0, start), term.slice(from, to), part.slice(end)].join(""));
          });
        }
      });
      return terms;
    });
  }

  function parseSearchQuery(lunr, value) {
    var query = new lunr.Query(["title", "text", "tags"]);
    new lunr.QueryParser(value, query).parse();
    query.clauses.forEach(function (clause) {
      if (clause.term.startsWith("*")) {
        clause.wildcard = lunr.Query.wildcard.LEADING;
        clause.term = clause.term.slice(1);
      }
      if (clause.term.endsWith("*")) {
        clause.wildcard = lunr.Query.wildcard.TRAILING;
        clause.term = clause.term.slice(0, -1);
      }
    });
    return query.clauses;
  }

  function getSearchQueryTerms(lunr, query, terms) {
    var clauses = new Set(query);
    var result = {};
    for (var t = 0; t < terms.length; t++) {
      for (var clause of clauses) {
        if (terms[t].startsWith(clause.term)) {
          result[clause.term] = true;
          clauses.delete(clause);
        }
      }
    }
    for (var rest of clauses) {
      if (lunr.stopWordFilter && lunr.stopWordFilter(rest.term)) { result[rest.term] = false; }
    }
    return result;
  }

  function segment(query, terms) {
    var segments = new Set();
    var wordcuts = new Uint16Array(query.length);
    for (var i = 0; i < query.length; i++) {
      for (var j = i + 1; j < query.length; j++) {
        if (terms.has(query.slice(i, j))) { wordcuts[i] = j - i; }
      }
    }
    var stack = [0];
    for (var s = stack.length; s > 0;) {
      var p = stack[--s];
      for (var q = 1; q < wordcuts[p]; q++) {
        if (wordcuts[p + q] > wordcuts[p] - q) {
          segments.add(query.slice(p, p + q));
          stack[s++] = p + q;
        }
      }
      var r = p + wordcuts[p];
      if (wordcuts[r] && r < query.length - 1) { stack[s++] = r; }
      segments.add(query.slice(p, r));
    }
    if (segments.has("")) { return new Set([query]); }
    return segments;
  }

  // --- the index ---------------------------------------------------------------------------------------------
  function Index(lunr, manifest) {
    this.lunr = lunr;
    this.manifest = manifest;
    this.build = manifest.id;
    this.fields = manifest.fields;
    this.fieldBoosts = manifest.boosts;
    this.count = manifest.count;
    this.shardTerms = manifest.terms;
    this.shardDocs = manifest.docs;
    this.shards = [];
    this.postings = new Map();
    this.tokenSets = new Map();
    this.docs = [];
    this.docLoads = [];
    var pages = decodeNumbers(manifest.pages);
    this.article = new Int32Array(this.count);
    for (var p = 0; p < pages.length; p++) {
      var end = p + 1 < pages.length ? pages[p + 1] : this.count;
      for (var d = pages[p]; d < end; d++) { this.article[d] = pages[p]; }
    }
    this.docBoost = [];
    var self = this;
    manifest.docBoosts.forEach(function (run) {
      for (var n = 0; n < run[1]; n++) { self.docBoost.push(run[0]); }
    });
    lunr.tokenizer.separator = new RegExp(manifest.config.separator);
    this.pipeline = new lunr.Pipeline();
    manifest.pipeline.forEach(function (name) { self.pipeline.add(lunr[name]); });
    // No search pipeline: Material takes the stemmer, lunr's only search-time function, out of it unless the
    // configuration lists it, and search_data leaves such a site to Material. A clause's term is looked up as
    // it is, where lunr would pass it through the (empty) pipeline.
  }

  // Shards whose terms can start with `prefix`, in order.
  Index.prototype.shardsFor = function (prefix) {
    var terms = this.shardTerms, found = [];
    if (!terms.length) { return found; }
    var lo = 0, hi = terms.length - 1;
    while (lo < hi) { // the last shard whose first term is <= prefix
      var mid = (lo + hi + 1) >> 1;
      if (terms[mid] <= prefix) { lo = mid; } else { hi = mid - 1; }
    }
    found.push(lo);
    for (var next = lo + 1; next < terms.length && terms[next].startsWith(prefix); next++) { found.push(next); }
    return found;
  };

  Index.prototype.loadShards = function (numbers) {
    var self = this;
    return Promise.all(numbers.map(function (n) {
      if (self.shards[n]) { return self.shards[n]; }
      return data("t" + n, self.build).then(function (payload) {
        self.shards[n] = payload;
        payload.t.forEach(function (term, k) {
          self.postings.set(term, { shard: payload, at: k, index: payload.i[k], fields: null, idf: null });
        });
        return payload;
      });
    }));
  };

  // Loads the term shards a query's clauses need (every shard for a fuzzy or leading-wildcard term).
  Index.prototype.prepare = function (clauses) {
    var self = this, wanted = new Set();
    clauses.forEach(function (clause) {
      var prefix = "editDistance" in clause ? "" : clause.term.split("*")[0];
      self.shardsFor(prefix).forEach(function (n) { wanted.add(n); });
    });
    return this.loadShards(Array.from(wanted).sort(function (x, y) { return x - y; }));
  };

  Index.prototype.loadAllShards = function () {
    return this.loadShards(this.shardTerms.map(function (_, n) { return n; }));
  };

  Index.prototype.allTerms = function () {
    var terms = new Set();
    this.shards.forEach(function (shard) { shard.t.forEach(function (term) { terms.add(term); }); });
    return terms;
  };

  // Every loaded term starting with `prefix`, sorted as lunr sorts them (the shards hold them in that order).
  Index.prototype.termsWith = function (prefix) {
    var out = [], self = this;
    this.shardsFor(prefix).forEach(function (n) {
      var shard = self.shards[n];
      if (!shard) { throw new Error("term shard " + n + " is not loaded"); }
      var terms = shard.t, lo = 0, hi = terms.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (terms[mid] < prefix) { lo = mid + 1; } else { hi = mid; } }
      for (var k = lo; k < terms.length && terms[k].startsWith(prefix); k++) { out.push(terms[k]); }
    });
    return out;
  };

  // The index's terms that a clause matches, in the order lunr's Index#query finds them.
  Index.prototype.expand = function (clause) {
    var lunr = this.lunr;
    var prefix = "editDistance" in clause ? "" : clause.term.split("*")[0];
    var set = this.tokenSets.get(prefix);
    if (!set) {
      set = lunr.TokenSet.fromArray(this.termsWith(prefix));
      if (this.tokenSets.size > 64) { this.tokenSets.clear(); }
      this.tokenSets.set(prefix, set);
    }
    return set.intersect(lunr.TokenSet.fromClause(clause)).toArray();
  };

  Index.prototype.posting = function (term) {
    var posting = this.postings.get(term);
    if (posting.fields === null) {
      var text = posting.shard.p[posting.at], fields = [], from = 0, df = 0;
      for (var f = 0; f < this.fields.length; f++) {
        var to = text.indexOf(",", from);
        if (to < 0) { to = text.length; }
        var decoded = decodePostings(text, from, to);
        df += decoded.docs.length;
        fields.push(decoded);
        from = to + 1;
      }
      posting.fields = fields;
      var x = (this.count - df + 0.5) / (df + 0.5);
      posting.idf = Math.log(1 + Math.abs(x)); // lunr.idf
    }
    return posting;
  };

  // lunr's field vector component for a term in one document's field (Builder#createFieldVectors).
  Index.prototype.fieldScore = function (posting, tf, field, doc) {
    var score = posting.idf * ((K1 + 1) * tf) / (K1 + tf); // lunr's K1 * (1 - b + b * length / average), b = 0
    score *= this.fieldBoosts[field] || 1;
    score *= this.docBoost[doc] || 1;
    return Math.round(score * 1000) / 1000;
  };

  var COMPLETE = { complete: true }, EMPTY = { empty: true };
  function contains(set, doc) { return set === COMPLETE || (set !== EMPTY && set.has(doc)); }
  function union(a, b) { // lunr.Set#union, a being a set or a sentinel
    if (b === COMPLETE || a === COMPLETE) { return COMPLETE; }
    if (b === EMPTY) { return a; }
    if (a === EMPTY) { return b; }
    var out = new Set(a);
    b.forEach(function (doc) { out.add(doc); });
    return out;
  }
  function intersect(a, b) {
    if (a === COMPLETE) { return b; }
    if (a === EMPTY || b === EMPTY) { return EMPTY; }
    if (b === COMPLETE) { return a; }
    var out = new Set();
    a.forEach(function (doc) { if (b.has(doc)) { out.add(doc); } });
    return out;
  }

  // Yields to the event loop (a message, not a timer: no clamping) between slices of work.
  function pause() {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { channel.port1.close(); resolve(); };
      channel.port2.postMessage(null);
    });
  }
  var STALE = { stale: true }; // thrown when a newer query has come while this one paused

  function Clock(stale) {
    this.stale = stale || function () { return false; };
    this.until = performance.now() + SLICE_MS;
  }
  Clock.prototype.due = function () { return performance.now() > this.until; };
  Clock.prototype.pause = async function () {
    await pause();
    if (this.stale()) { throw STALE; }
    this.until = performance.now() + SLICE_MS;
  };

  // lunr's Index#query over the loaded shards: [{doc, score, terms: {field: [term, ...]}, metadata: [term...]}].
  Index.prototype.query = async function (query, clock) {
    var lunr = this.lunr, fields = this.fields, F = fields.length;
    var slot = Object.create(null);
    fields.forEach(function (name, f) { slot[name] = f; });
    var queryVectors = fields.map(function () { return new Map(); });
    var termFieldCache = new Set();
    var required = new Array(F), prohibited = new Array(F);
    var order = [], matching = new Map();
    var REQUIRED = lunr.Query.presence.REQUIRED, PROHIBITED = lunr.Query.presence.PROHIBITED;

    for (var c = 0; c < query.clauses.length; c++) {
      var clause = query.clauses[c], clauseMatches = EMPTY;
      var expanded = this.expand(clause); // lunr expands each term the search pipeline makes: the term itself
      if (expanded.length === 0 && clause.presence === REQUIRED) {
        clause.fields.forEach(function (name) { required[slot[name]] = EMPTY; });
      }
      for (var j = 0; j < expanded.length; j++) {
        if (clock.due()) { await clock.pause(); }
        var term = expanded[j], posting = this.posting(term);
        for (var k = 0; k < clause.fields.length; k++) {
          var f = slot[clause.fields[k]], fieldPosting = posting.fields[f];
          if (clause.presence === REQUIRED || clause.presence === PROHIBITED) {
            var docs = new Set(fieldPosting.docs);
            if (clause.presence === REQUIRED) {
              clauseMatches = union(clauseMatches, docs);
              if (required[f] === undefined) { required[f] = COMPLETE; }
            } else {
              prohibited[f] = union(prohibited[f] === undefined ? EMPTY : prohibited[f], docs);
              continue;
            }
          }
          var vector = queryVectors[f];
          vector.set(posting.index, (vector.get(posting.index) || 0) + clause.boost);
          var termField = term + "/" + f;
          if (termFieldCache.has(termField)) { continue; }
          for (var l = 0; l < fieldPosting.docs.length; l++) {
            var key = fieldPosting.docs[l] * F + f, record = matching.get(key);
            if (record === undefined) { matching.set(key, record = []); order.push(key); }
            record.push(term, posting, fieldPosting.tfs[l]);
          }
          termFieldCache.add(termField);
        }
      }
      if (clause.presence === REQUIRED) {
        clause.fields.forEach(function (name) { required[slot[name]] = intersect(required[slot[name]], clauseMatches); });
      }
    }

    var allRequired = COMPLETE, allProhibited = EMPTY;
    for (var g = 0; g < F; g++) {
      if (required[g]) { allRequired = intersect(allRequired, required[g]); }
      if (prohibited[g]) { allProhibited = union(allProhibited, prohibited[g]); }
    }
    if (query.isNegated()) {
      order = [];
      for (var n = 0; n < this.count * F; n++) { order.push(n); }
      matching = new Map();
    }

    // The query vectors' elements in term index order, and their magnitudes, as lunr.Vector keeps them.
    var sorted = queryVectors.map(function (vector) {
      return Array.from(vector.keys()).sort(function (x, y) { return x - y; });
    });
    var magnitudes = queryVectors.map(function (vector, f) {
      var sum = 0;
      sorted[f].forEach(function (index) { var value = vector.get(index); sum += value * value; });
      return Math.sqrt(sum);
    });

    var results = [], matches = new Map();
    for (var i = 0; i < order.length; i++) {
      if ((i & 1023) === 0 && clock.due()) { await clock.pause(); }
      var fieldRef = order[i], doc = Math.floor(fieldRef / F), field = fieldRef - doc * F;
      if (!contains(allRequired, doc) || contains(allProhibited, doc)) { continue; }
      var entries = matching.get(fieldRef) || [];
      var parts = [];
      for (var e = 0; e < entries.length; e += 3) {
        parts.push([entries[e + 1].index, this.fieldScore(entries[e + 1], entries[e + 2], field, doc)]);
      }
      parts.sort(function (x, y) { return x[0] - y[0]; });
      var dot = 0;
      for (var s = 0; s < parts.length; s++) { dot += queryVectors[field].get(parts[s][0]) * parts[s][1]; }
      var score = dot / magnitudes[field] || 0;
      var match = matches.get(doc);
      if (match === undefined) {
        match = { doc: doc, score: score, fields: [], metadata: Object.create(null) };
        matches.set(doc, match);
        results.push(match);
      } else {
        match.score += score;
      }
      var termsHere = [];
      for (var t = 0; t < entries.length; t += 3) {
        match.metadata[entries[t]] = true;
        termsHere.push(entries[t]);
      }
      match.fields[field] = termsHere;
    }
    return results.sort(function (x, y) { return y.score - x.score; });
  };

  // --- documents ----------------------------------------------------------------------------------------------
  Index.prototype.docShard = function (doc) {
    var starts = this.shardDocs, lo = 0, hi = starts.length - 1;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (starts[mid] <= doc) { lo = mid; } else { hi = mid - 1; } }
    return lo;
  };

  Index.prototype.loadDocs = function (docs) {
    var self = this, shards = new Set();
    docs.forEach(function (doc) { if (!self.docs[doc]) { shards.add(self.docShard(doc)); } });
    return Promise.all(Array.from(shards).map(function (n) {
      if (!self.docLoads[n]) {
        self.docLoads[n] = data("d" + n, self.build).then(function (rows) {
          var first = self.shardDocs[n];
          rows.forEach(function (row, k) { self.docs[first + k] = row; });
        }, function (error) { self.docLoads[n] = null; throw error; });
      }
      return self.docLoads[n];
    }));
  };

  var COLUMNS = { title: 1, text: 2, tags: 3 }; // of a document shard's rows, after the location
  var CONTAINER = /<(?:ul|ol|dl|table|pre)\b[^>]*>/g;

  // A result's text cut to about TEASER characters around its first match, at tag boundaries (the browser
  // closes what is left open). Material shows whole blocks: a page listing thousands of entries in one list
  // would put hundreds of kilobytes into the results, and take the page seconds to lay out.
  function shorten(html) {
    if (typeof html !== "string" || html.length <= TEASER) { return html; }
    var mark = html.indexOf("<mark>");
    var from = mark < 0 ? 0 : Math.max(0, html.lastIndexOf("<", Math.max(0, mark - TEASER / 5)));
    var to = html.indexOf("<", from + TEASER);
    if (to < 0) { to = html.length; }
    var head = "", found;
    CONTAINER.lastIndex = 0;
    while ((found = CONTAINER.exec(html)) !== null && found.index < from) { head = found[0]; }
    return (from > 0 ? head : "") + html.slice(from, to) + (to < html.length ? " \u2026" : "");
  }

  // A field's value with the matched terms marked, as Material's Search#search marks them.
  Index.prototype.marked = function (doc, field, terms) {
    var lunr = this.lunr, name = this.fields[field];
    var value = name in COLUMNS ? this.docs[doc][COLUMNS[name]] : undefined;
    if (typeof value === "undefined" || !terms || !terms.length) { return value; }
    var wanted = new Set(terms), positions = [];
    var table = lunr.tokenizer.table = [];
    this.pipeline.run(tokenize(lunr, value)).forEach(function (token) {
      if (wanted.has(token.toString())) { positions.push(token.metadata.position); }
    });
    if (!positions.length) { return value; }
    return (Array.isArray(value) ? highlightAll : highlight)(value, table, positions, name !== "text");
  };

  // One result as Material's worker returns it; location, title, text and tags are read when rendered.
  function Item(result, doc, score, terms, fields, group) {
    this._result = result;
    this._doc = doc;
    this._fields = fields;
    this._group = group;
    this._cache = null;
    this.score = score;
    this.terms = terms;
    if (result.index.article[doc] !== doc) { this.parent = true; }
  }
  Item.prototype._row = function () {
    if (this._cache) { return this._cache; }
    var index = this._result.index, doc = this._doc, fields = this._fields;
    this._result.ahead(this._group);
    var row = index.docs[doc];
    if (!row) { return { location: "", title: "\u2026", text: "" }; } // not loaded yet: shown as a gap
    var out = { location: row[0], title: row[1], text: row[2], tags: row[3] };
    if (fields) {
      index.fields.forEach(function (name, f) {
        if (name in COLUMNS && fields[f]) { out[name] = index.marked(doc, f, fields[f]); }
      });
    }
    out.text = shorten(out.text);
    return (this._cache = out);
  };
  Object.defineProperties(Item.prototype, {
    location: { enumerable: true, get: function () { return this._row().location; } },
    title: { enumerable: true, get: function () { return this._row().title; } },
    text: { enumerable: true, get: function () { return this._row().text; } },
    tags: { enumerable: true, get: function () { return this._row().tags; } },
  });

  // Material's Search#search over this index: resolves with a Result, whose data is what the worker sends.
  Index.prototype.search = async function (query, options, clock) {
    var lunr = this.lunr, self = this;
    if (/\p{sc=Han}/u.test(query)) {
      await this.loadAllShards();
      var all = this.allTerms();
      query = query.replace(/\p{sc=Han}+/gu, function (value) { return Array.from(segment(value, all)).join("* "); });
    }
    query = transformSearchQuery(lunr, query);
    if (!query) { return new Result(this); }
    var clauses = parseSearchQuery(lunr, query).filter(function (clause) {
      return clause.presence !== lunr.Query.presence.PROHIBITED;
    });
    var parsed = new lunr.Query(this.fields);
    new lunr.QueryParser(query, parsed).parse();
    var suggestion = null;
    if (options && options.suggest) {
      suggestion = new lunr.Query(this.fields);
      clauses.forEach(function (clause) {
        suggestion.term(clause.term, {
          fields: ["title"], presence: lunr.Query.presence.REQUIRED, wildcard: lunr.Query.wildcard.TRAILING,
        });
      });
    }
    await this.prepare(parsed.clauses.concat(suggestion ? suggestion.clauses : []));
    if (clock.stale()) { throw STALE; }
    return self.rank(parsed, clauses, suggestion, clock);
  };

  Index.prototype.rank = async function (parsed, clauses, suggestion, clock) {
    var lunr = this.lunr;
    var result = new Result(this);
    var matches = await this.query(parsed, clock);
    var items = [];
    for (var i = 0; i < matches.length; i++) {
      if ((i & 255) === 0 && clock.due()) { await clock.pause(); }
      var match = matches[i];
      var terms = getSearchQueryTerms(lunr, clauses, Object.keys(match.metadata));
      var isArticle = this.article[match.doc] === match.doc;
      var boost = +isArticle + Object.values(terms).filter(function (t) { return t; }).length / Object.keys(terms).length;
      items.push({ doc: match.doc, fields: match.fields, terms: terms, score: match.score * (1 + Math.pow(boost, 2)) });
    }
    items.sort(function (x, y) { return y.score - x.score; });
    if (clock.due()) { await clock.pause(); }
    var groups = new Map();
    for (var j = 0; j < items.length; j++) {
      var page = this.article[items[j].doc], group = groups.get(page);
      if (group === undefined) { groups.set(page, group = []); }
      group.push(items[j]);
    }
    var pages = [];
    groups.forEach(function (members, first) {
      if (!members.some(function (item) { return item.doc === first; })) {
        members.push({ doc: first, fields: null, terms: {}, score: 0 });
      }
      pages.push(members);
    });
    result.pages = pages.map(function (members, number) {
      return members.map(function (item) {
        return new Item(result, item.doc, item.score, item.terms, item.fields, number);
      });
    });
    result.data = { items: result.pages };
    if (suggestion) {
      var titles = await this.query(suggestion, clock);
      result.data.suggest = titles.length ? Object.keys(titles[0].metadata) : [];
    }
    return result;
  };

  // A ranked result: its documents load ahead of Material's rendering.
  function Result(index) {
    this.index = index;
    this.pages = [];
    this.fetched = 0;
    this.data = { items: [] };
  }
  Result.prototype.docsOf = function (from, to) {
    var docs = [];
    this.pages.slice(from, to).forEach(function (group) {
      group.forEach(function (item) { docs.push(item._doc); });
    });
    return docs;
  };
  // Loads the documents of the results Material renders at once, and marks their matches, a slice at a time.
  Result.prototype.first = async function (clock) {
    var shown = this.fetched = Math.min(this.pages.length, FIRST_GROUPS);
    await this.index.loadDocs(this.docsOf(0, shown));
    for (var g = 0; g < shown; g++) {
      for (var k = 0; k < this.pages[g].length; k++) {
        if (clock.due()) { await clock.pause(); }
        this.pages[g][k]._row();
      }
    }
  };
  Result.prototype.ahead = function (group) {
    var until = Math.min(this.pages.length, group + 1 + AHEAD);
    if (until <= this.fetched) { return; }
    var from = this.fetched;
    this.fetched = until;
    this.index.loadDocs(this.docsOf(from, until)).catch(function (error) {
      console.warn("kb search: " + error.message);
    });
  };

  // --- the worker ---------------------------------------------------------------------------------------------
  var engine = null;
  function startEngine() {
    if (!engine) {
      engine = Promise.all([data("manifest"), loadLunr()]).then(function (loadedParts) {
        var manifest = loadedParts[0];
        return manifest.fallback ? null : new Index(loadedParts[1], manifest);
      }, function (error) {
        engine = null;
        throw error;
      });
    }
    return engine;
  }

  class KbSearchWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._url = url;
      this._fallback = null;
      this._options = {};
      this._next = null;
      this._busy = false;
    }

    _deliver(data) {
      var event = new MessageEvent("message", { data: data });
      this.dispatchEvent(event);
      if (typeof this.onmessage === "function") { this.onmessage(event); }
    }

    _useMaterial(setup) {
      var self = this;
      this._fallback = new BaseWorker(this._url);
      this._fallback.addEventListener("message", function (event) { self._deliver(event.data); });
      this._fallback.postMessage(setup);
    }

    postMessage(message) {
      var self = this;
      if (this._fallback) { this._fallback.postMessage(message); return; }
      if (!message) { return; }
      if (message.type === SETUP) {
        this._options = (message.data && message.data.options) || {};
        startEngine().then(function (index) {
          if (index === null) { self._useMaterial(message); } else { self._deliver({ type: READY }); }
        }, function (error) {
          console.warn("kb search: " + error.message + "; using Material's search");
          self._useMaterial(message);
        });
      } else if (message.type === QUERY) {
        this._next = String(message.data);
        this._run();
      }
    }

    // Runs the newest query; one overtaken by a newer query while it loads files or pauses is dropped.
    async _run() {
      if (this._busy || this._next === null) { return; }
      var self = this, query = this._next;
      this._next = null;
      this._busy = true;
      var clock = new Clock(function () { return self._next !== null; });
      try {
        var index = await startEngine();
        if (index === null) { // Material's own worker answers (the manifest said so)
          if (this._fallback) { this._fallback.postMessage({ type: QUERY, data: query }); }
        } else {
          var result = await index.search(query, this._options, clock);
          await result.first(clock);
          if (!clock.stale()) { this._deliver({ type: RESULT, data: result.data }); }
        }
      } catch (error) {
        if (error !== STALE) {
          console.warn("Invalid query: " + query + " – " + (error && error.message));
          if (!clock.stale()) { this._deliver({ type: RESULT, data: { items: [] } }); }
        }
      }
      this._busy = false;
      this._run();
    }

    terminate() {
      if (this._fallback) { this._fallback.terminate(); }
      this._next = null;
    }
  }

  function Worker(url, options) {
    var href = new URL(String(url), document.baseURI).href;
    if (WORKER.test(new URL(href).pathname)) { return new KbSearchWorker(href); }
    return new BaseWorker(url, options);
  }
  Worker.prototype = BaseWorker.prototype;
  window.Worker = Worker;
})();
