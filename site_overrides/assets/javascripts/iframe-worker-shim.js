/*
 * Runs Web Workers from file:// pages.
 *
 * Chromium refuses `new Worker("file:///...")`, which would leave the site's search dead when the site is
 * opened from a folder or an unpacked zip. On file:// only, this replaces `Worker` with an object that runs
 * the worker script inside a hidden same-origin iframe and relays messages both ways, so the page keeps
 * the Worker interface (postMessage, message events, terminate). Served over http(s) it does nothing.
 * Written for this project; no network access.
 */
(function () {
  "use strict";
  if (window.location.protocol !== "file:" || window.__kbFileWorker) {
    return;
  }
  window.__kbFileWorker = true;

  function loadScript(frameWindow, url) {
    return new Promise(function (resolve, reject) {
      var script = frameWindow.document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error("cannot load worker script " + url)); };
      frameWindow.document.head.appendChild(script);
    });
  }

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._pending = [];
      this._scope = null;
      var worker = this;
      var scriptUrl = new URL(String(url), document.baseURI).href;
      this._frame = document.createElement("iframe");
      this._frame.setAttribute("aria-hidden", "true");
      this._frame.tabIndex = -1;
      this._frame.style.display = "none";
      document.documentElement.appendChild(this._frame);
      var scope = this._frame.contentWindow;
      scope.document.open();
      scope.document.write("<!doctype html><html><head></head><body></body></html>");
      scope.document.close();
      // What the worker script sees as its global scope: messages it posts go to this object.
      scope.postMessage = function (data) {
        setTimeout(function () { worker._deliver(data); }, 0);
      };
      scope.importScripts = function () {
        var urls = Array.prototype.slice.call(arguments);
        return urls.reduce(function (chain, next) {
          return chain.then(function () { return loadScript(scope, new URL(next, scriptUrl).href); });
        }, Promise.resolve());
      };
      scope.close = function () { worker.terminate(); };
      loadScript(scope, scriptUrl).then(
        function () {
          worker._scope = scope;
          var queued = worker._pending;
          worker._pending = [];
          queued.forEach(function (data) { worker._send(data); });
        },
        function (error) {
          var event = new ErrorEvent("error", { message: error.message });
          worker.dispatchEvent(event);
          if (typeof worker.onerror === "function") { worker.onerror(event); }
        }
      );
    }

    _deliver(data) {
      var event = new MessageEvent("message", { data: data });
      this.dispatchEvent(event);
      if (typeof this.onmessage === "function") { this.onmessage(event); }
    }

    _send(data) {
      var scope = this._scope;
      setTimeout(function () { scope.dispatchEvent(new scope.MessageEvent("message", { data: data })); }, 0);
    }

    postMessage(data) {
      if (this._scope) { this._send(data); } else { this._pending.push(data); }
    }

    terminate() {
      if (this._frame && this._frame.parentNode) { this._frame.parentNode.removeChild(this._frame); }
      this._scope = null;
      this._pending = [];
    }
  }

  window.Worker = FileWorker;
})();
